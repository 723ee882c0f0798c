package io.flowstack.core;

import static io.flowstack.core.testing.StackHarness.US;
import static io.flowstack.core.testing.StackHarness.US_MAC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.testing.StackHarness;
import io.flowstack.core.testing.TestNic;
import io.flowstack.nic.Toeplitz;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The stack's RSS key (issue 13 point 9): chosen at random per stack unless its NIC steers with
 * one, which the software flow hash then takes (the NIC's steering program was built with it,
 * {@code ToeplitzSteeringTest} checks the programs against the hash under a random key).
 */
class RssKeyStackTest {
    @Test
    void twoStacksGetDifferentKeys() {
        Set<Integer> patterns = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            try (StackHarness h = new StackHarness(2)) {
                patterns.add(h.stack.table().hash().key().pattern());
            }
        }
        assertTrue(patterns.size() > 1, "a random key per stack, not a fixed one: " + patterns);
    }

    @Test
    void theNicsKeyIsTheStacksFlowHashKey() {
        Toeplitz key = Toeplitz.random(new SplittableRandom(11));
        StackConfig cfg = StackConfig.builder().cores(2).address(US).prefixLength(24).mac(US_MAC)
                .pinThreads(false).clock(() -> 1).build();
        try (FlowStack stack = FlowStack.create(cfg, new TestNic(2, 1500).steeredBy(key))) {
            assertEquals(key, stack.table().hash().key());
            for (int i = 0; i < stack.config().cores; i++) {
                assertEquals(key, stack.netisr(i).table().hash().key(), "every core's replica");
            }
        }
    }

    @Test
    void nicsThatSteerWithDifferentKeysAreRefused() {
        TestNic a = new TestNic(1, 1500).steeredBy(Toeplitz.WOO_PARK);
        TestNic b = new TestNic(1, 1500).steeredBy(Toeplitz.random(new SplittableRandom(12)));
        TestNic none = new TestNic(1, 1500);
        assertEquals(Toeplitz.WOO_PARK, RssKeys.of(List.of(none, a)), "a NIC without a key takes the others'");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RssKeys.of(List.of(a, none, b)));
        assertTrue(e.getMessage().contains("different RSS keys"), e.getMessage());
    }
}
