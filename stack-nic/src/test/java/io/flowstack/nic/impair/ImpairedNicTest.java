package io.flowstack.nic.impair;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.FrameBatch;
import io.flowstack.nic.MemoryWire;
import io.flowstack.nic.NicQueue;
import io.flowstack.nic.impair.ImpairmentSpec.Direction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ImpairedNic} over a {@link MemoryWire} on a fake clock. A "link" impairs either the TX
 * side (a's queue 0 transmits through the wrapper, b receives plainly) or the RX side (a transmits
 * plainly, b receives through the wrapper). Frame {@code k} carries {@code k} big-endian at offset
 * 14 and a pattern derived from {@code k} elsewhere. Measured figures go to the test's output file.
 */
class ImpairedNicTest {
    private static final long T0 = 1_000_000_000_000L;
    private static final long US = 1_000L;
    private static final long MS = 1_000_000L;
    private static final int N = 100_000;
    private static final ValueLayout.OfInt ID = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final long[] now = {T0};
    private final LongSupplier clock = () -> now[0];
    private final MemorySegment src = arena.allocate(4096);

    @AfterEach
    void closeArena() {
        arena.close();
    }

    /** Writes frame {@code k} of {@code len} bytes into {@code dst} and returns it. */
    private static MemorySegment frame(MemorySegment dst, int k, int len) {
        for (int i = 0; i < len; i++) {
            dst.set(ValueLayout.JAVA_BYTE, i, (byte) (k * 31 + i * 7));
        }
        if (len >= 18) {
            dst.set(ID, 14, k);
        }
        return dst;
    }

    private static int id(MemorySegment frame) {
        return frame.get(ID, 14);
    }

    @FunctionalInterface
    interface Sink {
        void accept(MemorySegment frame, int length);
    }

    /** One impaired direction of queue 0 of a wire. */
    private final class Link implements AutoCloseable {
        final MemoryWire wire = MemoryWire.create(1, 1 << 20);
        final ImpairedNic nic;
        final ImpairedQueue q;
        final NicQueue sender;
        final NicQueue receiver;
        final FrameBatch batch = new FrameBatch(arena, 32, 2048);
        final FrameBatch idle = new FrameBatch(arena, 32, 2048);

        Link(String spec, Direction dir) {
            ImpairmentSpec s = ImpairmentSpec.parse(spec).withDirection(dir);
            if (dir == Direction.TX) {
                nic = ImpairedNic.wrap(wire.a(), s, clock);
                q = nic.queue(0);
                sender = q;
                receiver = wire.b().queue(0);
            } else {
                nic = ImpairedNic.wrap(wire.b(), s, clock);
                q = nic.queue(0);
                sender = wire.a().queue(0);
                receiver = q;
            }
        }

        boolean send(int k, int len) {
            return sender.transmit(frame(src, k, len), 0, len);
        }

        /**
         * What the owners do on a poll: the TX side's receive (nothing arrives there, but it
         * releases due TX frames), then the receiver drained.
         */
        int poll(Sink sink) {
            if (sender == q) {
                assertEquals(0, q.receive(idle));
            }
            int total = 0;
            int n;
            while ((n = receiver.receive(batch)) > 0) {
                for (int i = 0; i < n; i++) {
                    sink.accept(batch.slot(i), batch.length(i));
                }
                total += n;
            }
            return total;
        }

        long dropped() {
            return sender == q ? q.txDropped() : q.rxDropped();
        }

        long duplicated() {
            return sender == q ? q.txDuplicated() : q.rxDuplicated();
        }

        long corrupted() {
            return sender == q ? q.txCorrupted() : q.rxCorrupted();
        }

        long delayed() {
            return sender == q ? q.txDelayed() : q.rxDelayed();
        }

        int held() {
            return sender == q ? q.heldTx() : q.heldRx();
        }

        @Override
        public void close() {
            nic.close();
            wire.close();
        }
    }

    private static void report(String what, Object... args) {
        System.out.printf("[impair] " + what + "%n", args);
    }

    // ------------------------------------------------------------------ rates

    @ParameterizedTest
    @EnumSource(value = Direction.class, names = {"RX", "TX"})
    void lossOf5PercentOver100000Frames(Direction dir) {
        try (Link link = new Link("loss=5%,seed=11", dir)) {
            int[] got = {0, -1};
            for (int k = 0; k < N; k++) {
                assertTrue(link.send(k, 64), "a lost frame still looks sent");
                if (k % 1000 == 999) {
                    link.poll((f, len) -> {
                        assertTrue(id(f) > got[1], "order kept");
                        got[1] = id(f);
                        got[0]++;
                    });
                }
            }
            double loss = 1 - got[0] / (double) N;
            report("loss=5%% %s: %d of %d lost = %.3f%%", dir, N - got[0], N, loss * 100);
            assertEquals(0.05, loss, 0.005);
            assertEquals(N - got[0], link.dropped());
            assertEquals(0, link.duplicated() + link.corrupted() + link.delayed());
            assertEquals(Long.MAX_VALUE, link.q.wakeDeadline());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Direction.class, names = {"RX", "TX"})
    void duplicationOf2PercentOver100000Frames(Direction dir) {
        try (Link link = new Link("dup=2%,seed=12", dir)) {
            int[] seen = new int[N];
            for (int k = 0; k < N; k++) {
                assertTrue(link.send(k, 64));
                if (k % 1000 == 999) {
                    link.poll((f, len) -> seen[id(f)]++);
                }
            }
            int twice = 0;
            for (int k = 0; k < N; k++) {
                assertTrue(seen[k] == 1 || seen[k] == 2, "frame " + k + " seen " + seen[k] + " times");
                twice += seen[k] - 1;
            }
            double rate = twice / (double) N;
            report("dup=2%% %s: %d of %d duplicated = %.3f%%", dir, twice, N, rate * 100);
            assertEquals(0.02, rate, 0.002);
            assertEquals(twice, link.duplicated());
            assertEquals(0, link.dropped() + link.corrupted() + link.delayed());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Direction.class, names = {"RX", "TX"})
    void corruptionOf1PercentFlipsExactlyOneBitPastTheEthernetHeader(Direction dir) {
        try (Link link = new Link("corrupt=1%,seed=13", dir)) {
            MemorySegment expected = arena.allocate(2048);
            int[] state = {0, 0, 0}; // next expected k, corrupted frames, lowest corrupted offset
            state[2] = Integer.MAX_VALUE;
            int[] lengths = new int[N];
            for (int k = 0; k < N; k++) {
                // every 100th frame is a bare 14-byte header, which must never be corrupted
                lengths[k] = k % 100 == 0 ? 14 : 60 + (k * 7919) % 1455;
                assertTrue(link.send(k, lengths[k]));
                if (k % 200 == 199) {
                    link.poll((f, len) -> {
                        int k1 = state[0]++;
                        assertEquals(lengths[k1], len, "length never corrupted");
                        frame(expected, k1, len);
                        long at = MemorySegment.mismatch(expected, 0, len, f, 0, len);
                        if (at < 0) {
                            return;
                        }
                        assertTrue(at >= ImpairedQueue.CORRUPT_FROM, "corrupted at " + at);
                        int diff = (expected.get(ValueLayout.JAVA_BYTE, at) ^ f.get(ValueLayout.JAVA_BYTE, at)) & 0xff;
                        assertEquals(1, Integer.bitCount(diff), "one bit of byte " + at);
                        assertEquals(-1, MemorySegment.mismatch(expected, at + 1, len, f, at + 1, len),
                                "only byte " + at + " differs");
                        state[1]++;
                        state[2] = (int) Math.min(state[2], at);
                    });
                }
            }
            assertEquals(N, state[0], "no frame lost");
            double rate = state[1] / (double) N;
            report("corrupt=1%% %s: %d of %d corrupted = %.3f%%, lowest offset %d", dir, state[1], N,
                    rate * 100, state[2]);
            assertEquals(0.01, rate, 0.0015);
            assertEquals(state[1], link.corrupted());
            assertEquals(0, link.dropped() + link.duplicated() + link.delayed());
            // the sender's memory is never touched (TX corrupts a copy)
            frame(expected, 7, 100);
            assertTrue(link.sender.transmit(expected, 0, 100));
            assertEquals(-1, MemorySegment.mismatch(expected, 0, 100, frame(src, 7, 100), 0, 100));
        }
    }

    // ------------------------------------------------------------------ time

    @ParameterizedTest
    @EnumSource(value = Direction.class, names = {"RX", "TX"})
    void delayOf5msReleasesNoFrameEarlyAndEveryFrameOnTime(Direction dir) {
        final int frames = 2000;
        try (Link link = new Link("delay=5ms", dir)) {
            long[] sentAt = new long[frames];
            int[] next = {0};
            long[] maxLate = {0};
            Sink check = (f, len) -> {
                int k = id(f);
                assertEquals(next[0]++, k, "FIFO without jitter");
                long latency = now[0] - sentAt[k];
                assertTrue(latency >= 5 * MS, "frame " + k + " released after " + latency + "ns");
                maxLate[0] = Math.max(maxLate[0], latency - 5 * MS);
            };
            for (int k = 0; k < frames; k++) {
                sentAt[k] = now[0];
                assertTrue(link.send(k, 100));
                link.poll(check);
                now[0] += 100 * US;
            }
            assertTrue(link.held() > 0);
            for (int i = 0; i < 60; i++) {
                link.poll(check);
                now[0] += 100 * US;
            }
            assertEquals(frames, next[0], "all released");
            assertEquals(0, link.held());
            assertEquals(frames, link.delayed());
            assertTrue(maxLate[0] < 100 * US, "released at the first poll after due: " + maxLate[0]);
            assertEquals(Long.MAX_VALUE, link.q.wakeDeadline());
            report("delay=5ms %s: %d frames, none early, latest %dns after due (poll step 100us)", dir,
                    frames, maxLate[0]);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Direction.class, names = {"RX", "TX"})
    void reorder25PercentWithDelayLetsFramesOvertakeAndLosesNone(Direction dir) {
        final int frames = 10_000;
        try (Link link = new Link("reorder=25%,delay=5ms,seed=5", dir)) {
            long[] sentAt = new long[frames];
            int[] seen = new int[frames];
            int[] state = {-1, 0, 0, 0}; // highest id so far, overtaken arrivals, immediate, delayed
            Sink check = (f, len) -> {
                int k = id(f);
                seen[k]++;
                long latency = now[0] - sentAt[k];
                if (latency == 0) {
                    state[2]++;
                } else {
                    assertEquals(5 * MS, latency, "delayed frames take exactly the delay");
                    state[3]++;
                }
                if (k < state[0]) {
                    state[1]++; // k arrived after a later frame: it was overtaken
                }
                state[0] = Math.max(state[0], k);
            };
            for (int k = 0; k < frames; k++) {
                sentAt[k] = now[0];
                assertTrue(link.send(k, 80));
                link.poll(check);
                now[0] += MS;
            }
            for (int i = 0; i < 10; i++) {
                link.poll(check);
                now[0] += MS;
            }
            for (int k = 0; k < frames; k++) {
                assertEquals(1, seen[k], "frame " + k);
            }
            double immediate = state[2] / (double) frames;
            report("reorder=25%%,delay=5ms %s: %d frames, %.2f%% sent at once, %d arrivals after a later"
                    + " frame, none lost", dir, frames, immediate * 100, state[1]);
            assertEquals(0.25, immediate, 0.02);
            assertEquals(state[3], link.delayed());
            assertTrue(state[1] > frames / 10, "frames overtaken: " + state[1]);
            assertEquals(0, link.dropped());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Direction.class, names = {"RX", "TX"})
    void jitterOf10msAround20msStaysInRangeAndReorders(Direction dir) {
        final int frames = 20_000;
        final long step = 100 * US;
        try (Link link = new Link("delay=20ms,jitter=10ms,seed=9", dir)) {
            long[] sentAt = new long[frames];
            long[] minMax = {Long.MAX_VALUE, 0, -1, 0}; // min, max latency, highest id, overtaken
            int[] got = {0};
            Sink check = (f, len) -> {
                int k = id(f);
                long latency = now[0] - sentAt[k];
                minMax[0] = Math.min(minMax[0], latency);
                minMax[1] = Math.max(minMax[1], latency);
                if (k < minMax[2]) {
                    minMax[3]++;
                }
                minMax[2] = Math.max(minMax[2], k);
                got[0]++;
            };
            for (int k = 0; k < frames; k++) {
                sentAt[k] = now[0];
                assertTrue(link.send(k, 80));
                link.poll(check);
                now[0] += step;
            }
            for (int i = 0; i < 400; i++) {
                link.poll(check);
                now[0] += step;
            }
            report("delay=20ms,jitter=10ms %s: latency %.2f..%.2f ms, %d arrivals after a later frame",
                    dir, minMax[0] / 1e6, minMax[1] / 1e6, minMax[3]);
            assertEquals(frames, got[0]);
            // released at the first poll (every 100us) at or after sent + [10ms, 30ms]
            assertTrue(minMax[0] >= 10 * MS && minMax[0] <= 10 * MS + step, "min " + minMax[0]);
            assertTrue(minMax[1] <= 30 * MS + step && minMax[1] > 30 * MS - step, "max " + minMax[1]);
            assertTrue(minMax[3] > 0, "jitter reorders (as netem does without a rate)");
        }
    }

    @Test
    void wakeDeadlineIsTheEarliestReleaseAndRxReadySeesDueFrames() {
        try (Link rx = new Link("delay=5ms", Direction.RX)) {
            assertEquals(Long.MAX_VALUE, rx.q.wakeDeadline());
            assertFalse(rx.q.rxReady());
            rx.send(0, 60);
            assertTrue(rx.q.rxReady(), "the wrapped queue has a frame");
            assertEquals(0, rx.q.receive(rx.batch), "held");
            assertFalse(rx.q.rxReady(), "held and not due");
            assertEquals(T0 + 5 * MS, rx.q.wakeDeadline());
            now[0] += MS;
            rx.send(1, 60);
            assertEquals(0, rx.q.receive(rx.batch));
            assertEquals(T0 + 5 * MS, rx.q.wakeDeadline(), "still the earliest");
            now[0] = T0 + 5 * MS - 1;
            assertFalse(rx.q.rxReady());
            assertEquals(0, rx.q.receive(rx.batch));
            now[0] = T0 + 5 * MS;
            assertTrue(rx.q.rxReady(), "a held frame is due although the wrapped queue is empty");
            assertEquals(1, rx.q.receive(rx.batch));
            assertEquals(0, id(rx.batch.slot(0)));
            assertEquals(T0 + 6 * MS, rx.q.wakeDeadline());
            now[0] = T0 + 6 * MS;
            assertEquals(1, rx.q.receive(rx.batch));
            assertEquals(Long.MAX_VALUE, rx.q.wakeDeadline());
        }
        // with jitter the deadline is the minimum over unordered release times
        now[0] = T0;
        try (Link tx = new Link("delay=20ms,jitter=10ms,seed=3", Direction.TX)) {
            for (int k = 0; k < 50; k++) {
                tx.send(k, 60);
                now[0] += 100 * US;
            }
            int released = 0;
            while (tx.q.wakeDeadline() != Long.MAX_VALUE) {
                long deadline = tx.q.wakeDeadline();
                assertTrue(deadline - now[0] > 0, "deadline ahead");
                now[0] = deadline - 1;
                assertEquals(0, tx.poll((f, len) -> { }), "nothing before the deadline");
                now[0] = deadline;
                int n = tx.poll((f, len) -> { });
                assertTrue(n >= 1, "something at the deadline");
                released += n;
            }
            assertEquals(50, released);
        }
    }

    @Test
    void heldTxFramesLeaveWhenTheOwnerOnlyReceives() {
        try (Link link = new Link("delay=5ms", Direction.TX)) {
            assertTrue(link.send(1, 60));
            assertTrue(link.send(2, 60));
            assertEquals(2, link.q.heldTx());
            assertEquals(T0 + 5 * MS, link.q.wakeDeadline());
            assertFalse(link.q.rxReady(), "TX frames are announced by the deadline only");
            now[0] += 5 * MS;
            assertEquals(0, link.receiver.receive(link.batch), "not sent until the owner calls in");
            assertEquals(0, link.q.receive(link.idle), "the idle owner polls its queue");
            assertEquals(0, link.q.heldTx());
            assertEquals(2, link.receiver.receive(link.batch));
            assertEquals(1, id(link.batch.slot(0)));
            assertEquals(2, id(link.batch.slot(1)));
        }
    }

    // ------------------------------------------------------------------ bounds and determinism

    @Test
    void holdingAreaOverflowIsCountedNeverThrown() {
        try (Link rx = new Link("delay=1s,limit=16", Direction.RX)) {
            assertEquals(16, rx.q.heldCapacity());
            for (int k = 0; k < 100; k++) {
                assertTrue(rx.send(k, 100));
            }
            while (rx.q.rxReady()) {
                assertEquals(0, rx.q.receive(rx.batch));
            }
            assertEquals(16, rx.q.heldRx());
            assertEquals(84, rx.q.heldOverflow());
            now[0] += 1000 * MS;
            assertEquals(16, rx.q.receive(rx.batch));
            for (int i = 0; i < 16; i++) {
                assertEquals(i, id(rx.batch.slot(i)), "the first 16 were held");
            }
        }
        try (Link tx = new Link("delay=1s,limit=16", Direction.TX)) {
            int accepted = 0;
            for (int k = 0; k < 100; k++) {
                accepted += tx.send(k, 100) ? 1 : 0;
            }
            assertEquals(16, accepted, "a full holding area is a full device queue: false");
            assertEquals(84, tx.q.heldOverflow());
            assertEquals(84, tx.q.txDrops());
            // a frame longer than a holding slot cannot be held either
            assertTrue(tx.q.heldSlotSize() >= 1518);
            assertFalse(tx.sender.transmit(frame(src, 100, tx.q.heldSlotSize() + 1), 0, tx.q.heldSlotSize() + 1));
            assertEquals(85, tx.q.heldOverflow());
            now[0] += 1000 * MS;
            assertEquals(16, tx.poll((f, len) -> { }));
        }
        // the byte bound caps the slot count: 8 MiB of 1536-byte slots
        try (Link big = new Link("delay=1ms,limit=100000", Direction.RX)) {
            assertEquals(1536, big.q.heldSlotSize());
            assertEquals((int) (ImpairedQueue.MAX_HELD_BYTES / 1536), big.q.heldCapacity());
        }
    }

    private static final String ALL =
            "loss=5%,dup=2%,corrupt=1%,reorder=25%,delay=5ms,jitter=2ms";

    /** Frames through a TX-impaired a and an RX-impaired b: (arrival time, length, content hash). */
    private long[] trace(long seed) {
        now[0] = T0;
        List<Long> out = new ArrayList<>();
        try (MemoryWire wire = MemoryWire.create(1, 1 << 20);
             ImpairedNic a = ImpairedNic.wrap(wire.a(), ImpairmentSpec.parse(ALL + ",dir=tx,seed=" + seed), clock);
             ImpairedNic b = ImpairedNic.wrap(wire.b(), ImpairmentSpec.parse(ALL + ",dir=rx,seed=" + seed), clock)) {
            FrameBatch batch = new FrameBatch(arena, 8, 2048);
            for (int k = 0; k < 20_000; k++) {
                a.queue(0).transmit(frame(src, k, 60 + k % 200), 0, 60 + k % 200);
                now[0] += 50 * US;
                a.queue(0).receive(batch);
                int n;
                while ((n = b.queue(0).receive(batch)) > 0) {
                    for (int i = 0; i < n; i++) {
                        MemorySegment f = batch.slot(i);
                        long h = 1125899906842597L;
                        for (int j = 0; j < batch.length(i); j++) {
                            h = 31 * h + f.get(ValueLayout.JAVA_BYTE, j);
                        }
                        out.add(now[0]);
                        out.add((long) batch.length(i));
                        out.add(h);
                    }
                }
            }
            ImpairedQueue qa = a.queue(0);
            ImpairedQueue qb = b.queue(0);
            report("trace seed=%d: %d frames out of 20000; tx dropped %d dup %d corrupt %d delayed %d;"
                    + " rx dropped %d dup %d corrupt %d delayed %d", seed, out.size() / 3, qa.txDropped(),
                    qa.txDuplicated(), qa.txCorrupted(), qa.txDelayed(), qb.rxDropped(), qb.rxDuplicated(),
                    qb.rxCorrupted(), qb.rxDelayed());
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    @Test
    void sameSeedSameInputsSameClockGiveTheSameSequence() {
        long[] first = trace(42);
        long[] second = trace(42);
        long[] other = trace(43);
        assertTrue(first.length > 3 * 15_000);
        assertArrayEquals(first, second);
        assertFalse(Arrays.equals(first, other), "another seed, other decisions");
    }

    @Test
    void queueIUsesSeedPlusI() {
        try (MemoryWire two = MemoryWire.create(2, 1 << 20);
             MemoryWire one = MemoryWire.create(1, 1 << 20);
             ImpairedNic nic = ImpairedNic.wrap(two.a(), ImpairmentSpec.parse("loss=50%,seed=42,dir=tx"), clock);
             ImpairedNic shifted = ImpairedNic.wrap(one.a(), ImpairmentSpec.parse("loss=50%,seed=43,dir=tx"), clock)) {
            StringBuilder q0 = new StringBuilder();
            StringBuilder q1 = new StringBuilder();
            StringBuilder s0 = new StringBuilder();
            for (int k = 0; k < 200; k++) {
                q0.append(drops(nic.queue(0)));
                q1.append(drops(nic.queue(1)));
                s0.append(drops(shifted.queue(0)));
            }
            assertNotEquals(q0.toString(), q1.toString(), "queues decide independently");
            assertEquals(s0.toString(), q1.toString(), "queue 1 of seed 42 = queue 0 of seed 43");
        }
    }

    private char drops(ImpairedQueue q) {
        long before = q.txDropped();
        assertTrue(q.transmit(frame(src, 0, 60), 0, 60));
        return q.txDropped() > before ? 'x' : '.';
    }

    @Test
    void passThroughWhenTheDirectionIsNotImpaired() {
        try (MemoryWire wire = MemoryWire.create(1, 1 << 20);
             ImpairedNic a = ImpairedNic.wrap(wire.a(), ImpairmentSpec.parse("loss=100%,dir=rx"), clock);
             ImpairedNic none = ImpairedNic.wrap(wire.b(), ImpairmentSpec.NONE, clock)) {
            assertEquals(wire.a().name(), a.name());
            assertEquals(1500, a.mtu());
            assertEquals(1, a.queueCount());
            assertEquals(-1, a.queue(0).pollFd());
            assertSame(wire.a().queue(0), a.queue(0).inner());
            FrameBatch batch = new FrameBatch(arena, 4, 2048);
            for (int k = 0; k < 3; k++) {
                assertTrue(a.queue(0).transmit(frame(src, k, 64), 0, 64));
            }
            assertEquals(3, none.queue(0).receive(batch));
            assertEquals(0, a.queue(0).txDropped());
            assertEquals(0, none.queue(0).rxDropped() + none.queue(0).heldOverflow());
            assertEquals(Long.MAX_VALUE, none.queue(0).wakeDeadline());
        }
    }

    @Test
    void wrappingTwiceGivesEachDirectionItsOwnProfile() {
        try (MemoryWire wire = MemoryWire.create(1, 1 << 20)) {
            ImpairedNic txOnly = ImpairedNic.wrap(wire.a(), ImpairmentSpec.parse("delay=10ms,dir=tx"), clock);
            ImpairedNic both = ImpairedNic.wrap(txOnly, ImpairmentSpec.parse("delay=3ms,dir=rx"), clock);
            ImpairedQueue q = both.queue(0);
            assertTrue(q.transmit(frame(src, 1, 60), 0, 60));
            assertEquals(T0 + 10 * MS, q.wakeDeadline(), "the inner wrapper's deadline shows through");
            assertTrue(wire.b().queue(0).transmit(frame(src, 2, 60), 0, 60));
            FrameBatch batch = new FrameBatch(arena, 4, 2048);
            assertEquals(0, q.receive(batch));
            assertEquals(T0 + 3 * MS, q.wakeDeadline());
            now[0] += 3 * MS;
            assertEquals(1, q.receive(batch));
            assertEquals(2, id(batch.slot(0)));
            now[0] += 7 * MS;
            assertEquals(0, q.receive(batch), "the inner receive released the TX frame");
            assertEquals(1, wire.b().queue(0).receive(batch));
            assertEquals(1, id(batch.slot(0)));
            assertEquals(Long.MAX_VALUE, q.wakeDeadline());
            both.close();
        }
    }

    @Test
    void duplicatesThatFindTheBatchFullWaitForTheNextReceive() {
        try (Link link = new Link("dup=100%", Direction.RX)) {
            FrameBatch two = new FrameBatch(arena, 2, 2048);
            for (int k = 0; k < 3; k++) {
                link.send(k, 60);
            }
            int[] ids = new int[6];
            int n = 0;
            int got;
            while ((got = link.q.receive(two)) > 0) {
                for (int i = 0; i < got; i++) {
                    ids[n++] = id(two.slot(i));
                }
            }
            assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2}, ids);
            assertEquals(3, link.q.rxDuplicated());
            assertEquals(0, link.q.heldOverflow());
        }
    }

    // ------------------------------------------------------------------ allocation

    @Test
    void noHeapAllocationInSteadyState() {
        try (MemoryWire wire = MemoryWire.create(1, 1 << 20);
             ImpairedNic a = ImpairedNic.wrap(wire.a(), ImpairmentSpec.parse(ALL + ",dir=tx,seed=7"), clock);
             ImpairedNic b = ImpairedNic.wrap(wire.b(), ImpairmentSpec.parse(ALL + ",dir=rx,seed=7"), clock)) {
            ImpairedQueue qa = a.queue(0);
            ImpairedQueue qb = b.queue(0);
            FrameBatch batch = new FrameBatch(arena, 32, 2048);
            FrameBatch idle = new FrameBatch(arena, 32, 2048);
            frame(src, 0, 256);
            long[] delivered = {0};
            Runnable round = () -> {
                for (int k = 0; k < N; k++) {
                    src.set(ID, 14, k);
                    int len = 60 + (k & 127);
                    qa.transmit(src, 0, len);
                    now[0] += 20 * US; // ~250 frames held per direction
                    if ((k & 15) == 15) {
                        qa.receive(idle);
                        int n;
                        while ((n = qb.receive(batch)) > 0) {
                            delivered[0] += n;
                        }
                    }
                }
            };
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            for (int i = 0; i < 3; i++) {
                round.run(); // warm-up: JIT, and the internal receive batches
            }
            long[] rounds = new long[6];
            long min = Long.MAX_VALUE;
            for (int i = 0; i < rounds.length; i++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                round.run();
                rounds[i] = mx.getCurrentThreadAllocatedBytes() - before;
                min = Math.min(min, rounds[i]);
            }
            report("allocation per round of %d frames (all impairments, both directions): %s bytes,"
                    + " min %d; %d delivered in total, held now tx=%d rx=%d", N, Arrays.toString(rounds), min,
                    delivered[0], qa.heldTx(), qb.heldRx());
            assertTrue(delivered[0] > 8L * N, "frames flowed: " + delivered[0]);
            assertTrue(qa.txDelayed() > 0 && qb.rxDelayed() > 0 && qb.rxCorrupted() > 0);
            assertTrue(min < 1024, "steady-state allocation " + min + " bytes per " + N + " frames");
        }
    }
}
