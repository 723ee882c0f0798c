package io.flowstack.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AffinityNetdevTest {

    @Test
    void pinningAThreadMovesItToThatCpu() throws Exception {
        // a fresh thread, so that the test runner's thread keeps its affinity
        AtomicBoolean pinned = new AtomicBoolean();
        AtomicInteger cpu = new AtomicInteger(-2);
        AtomicBoolean outOfRange = new AtomicBoolean(true);
        Thread t = Thread.ofPlatform().start(() -> {
            pinned.set(Affinity.pinCurrentThread(0));
            cpu.set(Affinity.currentCpu());
            outOfRange.set(Affinity.pinCurrentThread(100_000) || Affinity.pinCurrentThread(-1));
        });
        t.join();
        assertTrue(pinned.get(), "CPU 0 exists on every machine");
        assertEquals(0, cpu.get());
        assertFalse(outOfRange.get());
    }

    @Test
    void loopbackQueries() {
        assertTrue(Netdev.exists("lo"));
        assertFalse(Netdev.exists("fsnone0"));
        assertEquals(65536, Netdev.mtu("lo"));
        assertArrayEquals(new byte[6], Netdev.hwAddr("lo"));
        assertTrue((Netdev.flags("lo") & Netdev.IFF_UP) != 0);
        assertEquals(1, Netdev.index("lo"));
        assertTrue(Netdev.txQueueLen("lo") >= 0, "ip link's qlen");
    }

    @Test
    void missingDeviceAndBadNames() {
        NativeException e = assertThrows(NativeException.class, () -> Netdev.mtu("fsnone0"));
        assertEquals(Errno.ENODEV, e.errno());
        assertEquals("SIOCGIFMTU fsnone0: ENODEV (No such device): no such device", e.getMessage());
        NativeException set = assertThrows(NativeException.class, () -> Netdev.setTxQueueLen("fsnone0", 4096));
        assertEquals("SIOCSIFTXQLEN fsnone0: ENODEV (No such device): no such device", set.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Netdev.exists("a-name-that-is-too-long"));
        assertThrows(IllegalArgumentException.class, () -> Netdev.exists("a/b"));
        assertThrows(IllegalArgumentException.class, () -> Netdev.exists(""));
    }
}
