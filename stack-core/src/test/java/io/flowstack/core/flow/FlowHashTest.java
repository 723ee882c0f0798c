package io.flowstack.core.flow;

import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.core.flow.FlowHash;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import io.flowstack.nic.Toeplitz;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class FlowHashTest {

    /** Reference Toeplitz over bytes, straight from the RSS specification (no tables). */
    static int reference(byte[] input) {
        byte[] key = Toeplitz.key();
        int result = 0;
        long window = ((key[0] & 0xFFL) << 24) | ((key[1] & 0xFF) << 16) | ((key[2] & 0xFF) << 8) | (key[3] & 0xFF);
        int nextKeyBit = 32;
        for (byte b : input) {
            for (int bit = 7; bit >= 0; bit--) {
                if (((b >> bit) & 1) != 0) {
                    result ^= (int) window;
                }
                int kb = (key[nextKeyBit >>> 3] >> (7 - (nextKeyBit & 7))) & 1;
                window = ((window << 1) | kb) & 0xFFFFFFFFL;
                nextKeyBit++;
            }
        }
        return result;
    }

    static byte[] tuple(int src, int dst, int sport, int dport) {
        return java.nio.ByteBuffer.allocate(12).putInt(src).putInt(dst).putShort((short) sport)
                .putShort((short) dport).array();
    }

    @Test
    void matchesTheReferenceToeplitz() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 10_000; i++) {
            int s = r.nextInt(), d = r.nextInt(), sp = r.nextInt(65536), dp = r.nextInt(65536);
            assertEquals(reference(tuple(s, d, sp, dp)), FlowHash.hash4(s, d, sp, dp));
            byte[] two = java.util.Arrays.copyOf(tuple(s, d, 0, 0), 8);
            assertEquals(reference(two), FlowHash.hash2(s, d));
        }
    }

    /**
     * The NIC's steering programs (classic BPF for AF_PACKET, eBPF for the TAP) hash the XOR of
     * the tuple's 16-bit words ({@link Toeplitz#hashOfXor}) and keep {@link Toeplitz#BUCKETS}
     * buckets: for the same tuples they pick the bucket the stack's flow hash and table pick.
     */
    @Test
    void theSteeringProgramsHashOfTheSameTuplesIsTheStacks() {
        IndirectionTable t = new IndirectionTable(1);
        assertEquals(Toeplitz.BUCKETS, t.size());
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < 20_000; i++) {
            int s = r.nextInt(), d = r.nextInt(), sp = r.nextInt(65536), dp = r.nextInt(65536);
            int x2 = (s >>> 16) ^ (s & 0xffff) ^ (d >>> 16) ^ (d & 0xffff);
            assertEquals(FlowHash.hash2(s, d), Toeplitz.hashOfXor(x2));
            assertEquals(FlowHash.hash4(s, d, sp, dp), Toeplitz.hashOfXor(x2 ^ sp ^ dp));
            assertEquals(t.bucket(FlowHash.hash4(s, d, sp, dp)), Toeplitz.hashOfXor(x2 ^ sp ^ dp) & (Toeplitz.BUCKETS - 1));
        }
    }

    @Test
    void bothDirectionsOfEveryFlowHashAlike() {
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 100_000; i++) {
            int s = r.nextInt(), d = r.nextInt(), sp = r.nextInt(65536), dp = r.nextInt(65536);
            assertEquals(FlowHash.hash4(s, d, sp, dp), FlowHash.hash4(d, s, dp, sp));
            assertEquals(FlowHash.hash2(s, d), FlowHash.hash2(d, s));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 16})
    void randomFlowsSpreadEvenlyOverCores(int cores) {
        IndirectionTable t = new IndirectionTable(cores);
        int[] count = new int[cores];
        SplittableRandom r = new SplittableRandom(3);
        int flows = 100_000;
        for (int i = 0; i < flows; i++) {
            // Clients in 198.18.0.0/15 with ephemeral ports towards a few servers, like real traffic.
            int client = 0xC6120000 | r.nextInt(1 << 17);
            int server = 0xC6130000 | r.nextInt(256);
            int c1 = t.core(FlowHash.hash4(client, server, 32768 + r.nextInt(28232), 80));
            count[c1]++;
        }
        double expected = (double) flows / cores;
        for (int c = 0; c < cores; c++) {
            double dev = Math.abs(count[c] - expected) / expected;
            assertTrue(dev < 0.05, "core " + c + " got " + count[c] + " of " + flows + " flows (" + cores
                    + " cores): " + String.format("%.1f%%", dev * 100) + " off even");
        }
    }

    @Test
    void icmpErrorHashesLikeTheFlowItQuotes() {
        int us = Packets.ip("198.18.0.2"), peer = Packets.ip("198.18.0.1");
        byte[] udp = Packets.udp(us, peer, 40000, 53, new byte[20]);
        byte[] quoted = Packets.ipv4(us, peer, 17, 1, 0, udp);
        byte[] icmp = new byte[8 + 28];
        icmp[0] = 3;
        icmp[1] = 3;
        System.arraycopy(quoted, 0, icmp, 8, 28);
        byte[] err = Packets.ipv4(peer, us, 1, 2, 0, icmp);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(err.length);
            MemorySegment.copy(err, 0, s, ValueLayout.JAVA_BYTE, 0, err.length);
            assertEquals(FlowHash.hash4(peer, us, 53, 40000), FlowHash.ofIpv4(s, 0, err.length));
        }
    }

    @Test
    void fragmentsHashByAddressesOnly() {
        int us = Packets.ip("198.18.0.2"), peer = Packets.ip("198.18.0.1");
        byte[] first = Packets.ipv4(peer, us, 17, 7, 0x2000, Packets.udp(peer, us, 1000, 7, new byte[64]));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(first.length);
            MemorySegment.copy(first, 0, s, ValueLayout.JAVA_BYTE, 0, first.length);
            assertEquals(FlowHash.hash2(peer, us), FlowHash.ofIpv4(s, 0, first.length));
        }
    }
}
