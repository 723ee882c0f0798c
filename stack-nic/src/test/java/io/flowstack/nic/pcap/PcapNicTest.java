package io.flowstack.nic.pcap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.AbstractNic;
import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.NicQueue;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PcapNic} over a scripted NIC on a fake clock: what it writes is read back with
 * {@link PcapReader} (Pcap4J). Frame {@code k} carries {@code k} big-endian at offset 14.
 */
class PcapNicTest {
    private static final long T0 = 1_700_000_000_123_456_789L;

    @TempDir
    Path dir;

    private final Arena arena = Arena.ofShared();
    private final long[] now = {T0};
    private final LongSupplier clock = () -> now[0];

    @AfterEach
    void closeArena() {
        arena.close();
    }

    /** A NIC whose queues deliver the frames the test offers and accept every transmit. */
    static final class ScriptedNic extends AbstractNic<ScriptedQueue> {
        ScriptedNic(int n) {
            ScriptedQueue[] qs = new ScriptedQueue[n];
            for (int i = 0; i < n; i++) {
                qs[i] = new ScriptedQueue();
            }
            super("scripted0", qs, 1500);
        }

        @Override
        protected void release() {
        }
    }

    static final class ScriptedQueue implements NicQueue {
        final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
        long sent;
        boolean refuse;

        @Override
        public int receive(FrameBatch batch) {
            int n = 0;
            while (n < batch.capacity() && !inbound.isEmpty()) {
                byte[] f = inbound.poll();
                MemorySegment.copy(f, 0, batch.slot(n), ValueLayout.JAVA_BYTE, 0, f.length);
                batch.length(n, f.length);
                n++;
            }
            batch.count(n);
            return n;
        }

        @Override
        public boolean transmit(MemorySegment frame, long offset, int length) {
            if (refuse) {
                return false;
            }
            sent++;
            return true;
        }

        @Override
        public int pollFd() {
            return -1;
        }

        @Override
        public void readyNotifier(Runnable notifier) {}

        @Override
        public long txDrops() {
            return 0;
        }
    }

    private static byte[] frame(int k, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (k * 31 + i * 7);
        }
        ByteBuffer.wrap(b).putInt(14, k);
        return b;
    }

    private static int id(byte[] frame) {
        return ByteBuffer.wrap(frame).getInt(14);
    }

    private MemorySegment segment(byte[] b) {
        MemorySegment s = arena.allocate(b.length);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
        return s;
    }

    record Rec(byte[] frame, long ts) {}

    private static List<Rec> read(Path p) {
        List<Rec> out = new ArrayList<>();
        try (PcapReader r = PcapReader.open(p)) {
            while (r.next()) {
                assertEquals(r.frame().length, r.originalLength(), "whole frames are written");
                out.add(new Rec(r.frame(), r.timestampNanos()));
            }
        }
        return out;
    }

    @Test
    void bothDirectionsOfEveryQueueAreWrittenInTimeOrderWithNanosecondTimestamps() {
        ScriptedNic inner = new ScriptedNic(2);
        Path file = dir.resolve("a.pcap");
        List<byte[]> expected = new ArrayList<>();
        try (PcapNic nic = PcapNic.wrapWithoutThread(inner, PcapSpec.of(file), clock)) {
            FrameBatch batch = new FrameBatch(arena, 8, 2048);
            for (int k = 0; k < 40; k++) {
                now[0] = T0 + k * 1_001L; // distinct nanosecond timestamps
                byte[] f = frame(k, 60 + k * 13);
                expected.add(f);
                int q = (k / 3) % 2; // runs on each queue, so merging across queues matters
                if (k % 2 == 0) {
                    inner.queue(q).inbound.add(f);
                    assertEquals(1, nic.queue(q).receive(batch));
                } else {
                    assertTrue(nic.queue(q).transmit(segment(f), 0, f.length));
                }
            }
            assertEquals(40, nic.captured());
            assertEquals(40, nic.drain());
            assertEquals(0, nic.dropped());
            assertEquals(40, nic.written());
        }
        assertTrue(inner.closed(), "close() closes the wrapped NIC");
        List<Rec> recs = read(file);
        assertEquals(40, recs.size());
        for (int k = 0; k < 40; k++) {
            assertArrayEquals(expected.get(k), recs.get(k).frame(), "frame " + k);
            assertEquals(T0 + k * 1_001L, recs.get(k).ts(), "timestamp of frame " + k);
        }
    }

    @Test
    void directionFilterAndRefusedTransmitsAreNotCaptured() {
        ScriptedNic inner = new ScriptedNic(1);
        Path file = dir.resolve("tx.pcap");
        try (PcapNic nic = PcapNic.wrapWithoutThread(inner, PcapSpec.of(file).withDirection(PcapSpec.Direction.TX),
                clock)) {
            FrameBatch batch = new FrameBatch(arena, 8, 2048);
            inner.queue(0).inbound.add(frame(1, 100));
            assertEquals(1, nic.queue(0).receive(batch), "RX still delivered");
            assertTrue(nic.queue(0).transmit(segment(frame(2, 100)), 0, 100));
            inner.queue(0).refuse = true;
            assertFalse(nic.queue(0).transmit(segment(frame(3, 100)), 0, 100), "back-pressure passes through");
            nic.drain();
        }
        List<Rec> recs = read(file);
        assertEquals(1, recs.size());
        assertEquals(2, id(recs.get(0).frame()));
    }

    @Test
    void aRingOfFilesRotatesAtTheSizeLimitAndOverwritesTheOldest() throws IOException {
        ScriptedNic inner = new ScriptedNic(1);
        Path base = dir.resolve("ring.pcap");
        long limit = 2000; // 24 + 17 records of 16 + 100 = 1996
        PcapSpec spec = PcapSpec.of(base).withRotation(limit, 3);
        try (PcapNic nic = PcapNic.wrapWithoutThread(inner, spec, clock)) {
            for (int k = 0; k < 100; k++) {
                now[0] = T0 + k;
                assertTrue(nic.queue(0).transmit(segment(frame(k, 100)), 0, 100));
                if (k % 10 == 9) {
                    nic.drain(); // rotation happens while writing, across drains
                }
            }
            nic.drain();
            assertEquals(100, nic.written());
            assertEquals(6, nic.files(), "ceil(100 / 17) files opened");
        }
        try (var names = Files.list(dir)) {
            assertEquals(List.of("ring.pcap0", "ring.pcap1", "ring.pcap2"), names.map(p -> p.getFileName().toString())
                    .sorted().toList());
        }
        // files 3, 4, 5 (frames 51..67, 68..84, 85..99) overwrote 0, 1, 2
        int[] first = {51, 68, 85};
        int[] count = {17, 17, 15};
        for (int i = 0; i < 3; i++) {
            Path p = dir.resolve("ring.pcap" + i);
            assertTrue(Files.size(p) <= limit, p + " is " + Files.size(p) + " bytes");
            assertEquals(24 + count[i] * 116L, Files.size(p), p.toString());
            List<Rec> recs = read(p);
            assertEquals(count[i], recs.size(), p.toString());
            for (int j = 0; j < recs.size(); j++) {
                assertEquals(first[i] + j, id(recs.get(j).frame()), p + " record " + j);
            }
        }
    }

    @Test
    void withoutAFileCountTheFilesAreNumberedLikeTcpdumpC() {
        ScriptedNic inner = new ScriptedNic(1);
        Path base = dir.resolve("c.pcap");
        try (PcapNic nic = PcapNic.wrapWithoutThread(inner, PcapSpec.of(base).withRotation(2000, 0), clock)) {
            for (int k = 0; k < 40; k++) {
                nic.queue(0).transmit(segment(frame(k, 100)), 0, 100);
            }
            nic.drain();
        }
        assertEquals(17, read(base).size());
        assertEquals(17, read(dir.resolve("c.pcap1")).size());
        assertEquals(6, read(dir.resolve("c.pcap2")).size());
        assertFalse(Files.exists(dir.resolve("c.pcap3")));
        // tcpdump -W: as many digits as N-1 has
        assertEquals(List.of("c.pcap0", "c.pcap9", "c.pcap00", "c.pcap10", "c.pcap", "c.pcap"), List.of(
                name(base, 10, 0), name(base, 10, 19), name(base, 11, 0), name(base, 11, 10), name(base, 1, 0),
                name(base, 1, 7)));
    }

    private static String name(Path base, int files, long index) {
        return PcapSpec.of(base).withRotation(2000, files).fileName(index).getFileName().toString();
    }

    @Test
    void aFullRingDropsFromTheCaptureOnlyAndCountsIt() {
        ScriptedNic inner = new ScriptedNic(1);
        Path file = dir.resolve("small.pcap");
        PcapSpec spec = PcapSpec.of(file).withRingBytes(PcapSpec.MIN_RING_BYTES);
        int n = 1000;
        try (PcapNic nic = PcapNic.wrapWithoutThread(inner, spec, clock)) {
            MemorySegment f = segment(frame(7, 1514));
            for (int k = 0; k < n; k++) {
                assertTrue(nic.queue(0).transmit(f, 0, 1514), "the stack's frame is never held back");
            }
            assertEquals(n, inner.queue(0).sent);
            long captured = nic.captured();
            long dropped = nic.dropped();
            assertEquals(n, captured + dropped);
            // 256 KiB of 8-byte record headers + 16 + 1514 rounded to 8: 170 records
            assertEquals(PcapSpec.MIN_RING_BYTES / (8 + 1536), captured);
            assertEquals(captured, nic.drain());
            // room again
            assertTrue(nic.queue(0).transmit(f, 0, 1514));
            assertEquals(captured + 1, nic.captured());
            assertEquals(dropped, nic.dropped());
            assertTrue(nic.summary().contains(dropped + " dropped"), nic.summary());
        }
        assertEquals(PcapSpec.MIN_RING_BYTES / (8 + 1536) + 1, read(file).size());
    }

    @Test
    void theWriterThreadWritesEverythingByClose() {
        ScriptedNic inner = new ScriptedNic(2);
        Path file = dir.resolve("threaded.pcap");
        int n = 20_000;
        try (PcapNic nic = PcapNic.wrap(inner, PcapSpec.of(file), PcapNic.wallClock())) {
            MemorySegment[] frames = {segment(frame(0, 600)), segment(frame(1, 600))};
            for (int k = 0; k < n; k++) {
                nic.queue(k & 1).transmit(frames[k & 1], 0, 600);
                if ((k & 1023) == 0) {
                    Thread.onSpinWait();
                }
            }
            assertEquals(n, nic.captured() + nic.dropped());
            assertEquals(0, nic.dropped(), "an 8 MiB ring per queue holds 20,000 records of 600 B in two");
        }
        List<Rec> recs = read(file);
        assertEquals(n, recs.size());
        for (int i = 1; i < recs.size(); i++) {
            assertTrue(recs.get(i).ts() >= recs.get(i - 1).ts(), "time order at record " + i);
        }
    }

    @Test
    void theDataPathAllocatesNothing() {
        ScriptedNic inner = new ScriptedNic(1);
        try (PcapNic nic = PcapNic.wrapWithoutThread(inner, PcapSpec.of(dir.resolve("alloc.pcap")), clock)) {
            FrameBatch batch = new FrameBatch(arena, 32, 2048);
            MemorySegment f = segment(frame(3, 1514));
            byte[] in = frame(4, 1000);
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            Runnable round = () -> {
                for (int k = 0; k < 2000; k++) {
                    nic.queue(0).transmit(f, 0, 1514);
                }
                nic.queue(0).receive(batch);
            };
            for (int i = 0; i < 5; i++) {
                round.run(); // warm-up; the ring fills and then drops, both paths run
            }
            long min = Long.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                inner.queue(0).inbound.clear();
                for (int j = 0; j < 32; j++) {
                    inner.queue(0).inbound.add(in); // (the scripted queue itself allocates nothing here)
                }
                long before = mx.getCurrentThreadAllocatedBytes();
                round.run();
                min = Math.min(min, mx.getCurrentThreadAllocatedBytes() - before);
            }
            assertEquals(0, min, "bytes allocated per 2032 captured or dropped frames");
            assertTrue(nic.dropped() > 0 && nic.captured() > 0);
        }
    }

    @Test
    void aBadPathIsOneClearErrorAndTheInnerNicStaysOpen() {
        ScriptedNic inner = new ScriptedNic(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PcapNic.wrap(inner, PcapSpec.of(dir.resolve("no/such/dir/x.pcap")), clock));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertFalse(inner.closed());
        Path notADir = dir.resolve("file");
        assertThrows(IllegalArgumentException.class, () -> {
            Files.writeString(notADir, "x");
            PcapNic.wrap(inner, PcapSpec.of(notADir.resolve("x.pcap")), clock);
        });
    }

    @Test
    void specValidation() {
        Path p = dir.resolve("x");
        assertThrows(IllegalArgumentException.class, () -> PcapSpec.of(p).withRotation(100, 0));
        assertThrows(IllegalArgumentException.class, () -> PcapSpec.of(p).withRotation(0, 3));
        assertThrows(IllegalArgumentException.class, () -> PcapSpec.of(p).withRingBytes(1000));
        assertEquals(p, PcapSpec.of(p).fileName(5));
    }
}
