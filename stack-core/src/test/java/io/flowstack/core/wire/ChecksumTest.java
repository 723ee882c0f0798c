package io.flowstack.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.testing.Packets;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChecksumTest {
    @Test
    void rfc1071Example() {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (before complement).
        byte[] b = {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(8);
            MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, 8);
            assertEquals(0xddf2, Checksum.fold(Checksum.sum(s, 0, 8, 0)));
            assertEquals(~0xddf2 & 0xFFFF, Checksum.compute(s, 0, 8));
        }
    }

    @Test
    void agreesWithAnIndependent16BitImplementationAtEveryLengthAndOffset() {
        SplittableRandom r = new SplittableRandom(5);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(2000);
            byte[] b = new byte[2000];
            for (int i = 0; i < 2000; i++) {
                b[i] = (byte) r.nextInt();
            }
            MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, 2000);
            for (int off = 0; off < 4; off++) {
                for (int len = 0; len < 1500; len += 7) {
                    assertEquals(Packets.checksum(b, off, len, 0), Checksum.compute(s, off, len), "off " + off + " len " + len);
                }
            }
        }
    }

    @Test
    void agreesUpTo64KiBAtOddOffsetsWithAPartialSumAdded() {
        SplittableRandom r = new SplittableRandom(11);
        int size = 65536 + 64;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(size);
            byte[] b = new byte[size];
            for (int i = 0; i < size; i++) {
                b[i] = (byte) r.nextInt();
            }
            MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, size);
            for (int k = 0; k < 300; k++) {
                int off = r.nextInt(16);
                int len = k < 40 ? k : r.nextInt(65536);
                int pseudo = r.nextInt(0x40000); // a pseudo-header's partial sum
                long acc = Checksum.sum(s, off, len, pseudo);
                assertEquals(Packets.checksum(b, off, len, pseudo), Checksum.finish(acc), "off " + off + " len " + len);
            }
            // all ones (0xFF bytes) stress the end-around carry
            MemorySegment ones = a.allocate(65535).fill((byte) 0xFF);
            byte[] onesB = ones.toArray(ValueLayout.JAVA_BYTE);
            assertEquals(Packets.checksum(onesB, 0, 65535, 0), Checksum.compute(ones, 0, 65535));
        }
    }

    @Test
    void ipv4HeaderWrittenByTheStackVerifies() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64);
            Ipv4.write(s, 0, 84, 0x1234, 0, 64, 1, Ipv4.parse("198.18.0.2"), Ipv4.parse("198.18.0.1"));
            assertTrue(Checksum.verify(s, 0, 20));
            byte[] b = s.asSlice(0, 20).toArray(ValueLayout.JAVA_BYTE);
            assertEquals(0, Packets.checksum(b, 0, 20, 0));
        }
    }
}
