package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The commands' one teardown: reverse order, every step runs, the first failure wins. */
class TeardownTest {

    @Test
    void stepsRunNewestFirstKeepGoingAfterFailuresAndReportTheFirstWithTheOthersSuppressed() {
        List<String> ran = new ArrayList<>();
        StringWriter text = new StringWriter();
        Teardown t = new Teardown("test", new PrintWriter(text));
        IllegalStateException second = new IllegalStateException("stack busy");
        IOException fourth = new IOException("tap gone");
        t.add("one", () -> ran.add("one"));
        t.add("two", () -> {
            ran.add("two");
            throw second;
        });
        t.add("three", () -> ran.add("three"));
        t.add("four", () -> {
            ran.add("four");
            throw fourth;
        });
        t.close();
        assertEquals(List.of("four", "three", "two", "one"), ran);
        assertEquals(2, t.failures());
        assertSame(fourth, t.failure(), "the first failure (the newest step's)");
        assertArrayEquals(new Throwable[] {second}, fourth.getSuppressed());
        assertTrue(text.toString().contains("stack test: cleanup: four failed: tap gone"), text.toString());
        assertTrue(text.toString().contains("stack test: cleanup: two failed: stack busy"), text.toString());
        t.close();
        assertEquals(4, ran.size(), "idempotent");
        assertThrows(IllegalStateException.class, () -> t.add("late", () -> { }));
    }

    @Test
    void closeAllClosesInReverseOrderSkipsNullsAndThrowsTheFirstFailureWithTheOthersSuppressed() {
        List<String> closed = new ArrayList<>();
        RuntimeException c = new RuntimeException("c");
        RuntimeException a = new RuntimeException("a");
        AutoCloseable ra = () -> {
            closed.add("a");
            throw a;
        };
        AutoCloseable rb = () -> closed.add("b");
        AutoCloseable rc = () -> {
            closed.add("c");
            throw c;
        };
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> Teardown.closeAll(ra, null, rb, rc));
        assertEquals(List.of("c", "b", "a"), closed);
        assertSame(c, thrown);
        assertArrayEquals(new Throwable[] {a}, thrown.getSuppressed());

        closed.clear();
        Teardown.closeAll(rb, null);
        assertEquals(List.of("b"), closed);

        IOException checked = new IOException("disk");
        IllegalStateException wrapped = assertThrows(IllegalStateException.class,
                () -> Teardown.closeAll(() -> { throw checked; }));
        assertSame(checked, wrapped.getCause());
    }

    @Test
    void aTeardownWithoutFailuresHasNone() {
        Teardown t = new Teardown("test", new PrintWriter(new StringWriter()));
        t.add("fine", () -> { });
        t.close();
        assertEquals(0, t.failures());
        assertNull(t.failure());
    }

    @Test
    void aSignalHookCanBeRemovedTwice() {
        Teardown.SignalHook hook = Teardown.onSignal("test", () -> { });
        hook.close();
        hook.close(); // removing it again is harmless
    }
}
