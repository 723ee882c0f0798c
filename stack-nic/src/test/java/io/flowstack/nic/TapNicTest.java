package io.flowstack.nic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nativeio.Errno;
import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Netdev;
import io.flowstack.nativeio.Poller;
import io.flowstack.nativeio.Tun;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TapNic against the real kernel (tests run as root). Every device and namespace gets a per-run
 * unique name and is removed in {@link #cleanUp()}, even when a test fails; only addresses from
 * 198.18.0.0/15 are used and nothing in the root namespace is touched but the test's own TAPs.
 */
class TapNicTest {
    private static final ValueLayout.OfShort BE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final byte[] OUR_MAC = {0x02, 0, 0, 0, 0, 0x02};
    private static final byte[] KERNEL_IP = {(byte) 198, 18, 77, 1};
    private static final byte[] OUR_IP = {(byte) 198, 18, 77, 2};
    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final List<TapNic> nics = new ArrayList<>();
    private final List<String> namespaces = new ArrayList<>();
    private final Arena arena = Arena.ofShared();

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** {@code fst} + 8 hex digits: 11 characters, unique per run. */
    private static String tapName() {
        return "fst" + hex(4);
    }

    private TapNic open(String name, int queues, TapNic.Options options) {
        TapNic nic = TapNic.open(name, queues, options);
        nics.add(nic);
        return nic;
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (TapNic nic : nics) {
            nic.close();
        }
        for (String ns : namespaces) {
            run(false, "ip", "netns", "del", ns);
        }
        arena.close();
    }

    private static String run(boolean check, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (check && p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + p.exitValue() + ": " + out);
        }
        return out;
    }

    @Test
    void singleQueueTapIsCreatedAndDisappearsOnClose() {
        String name = tapName();
        assertFalse(Netdev.exists(name));
        TapNic nic = open(name, 1, TapNic.Options.DEFAULT);
        assertEquals(name, nic.name());
        assertTrue(Netdev.exists(name));
        assertEquals(1, nic.queueCount());
        assertEquals(1500, nic.mtu());
        assertFalse(nic.multiQueue());
        assertEquals(Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR, nic.kernelFlags(0) & 0xffff,
                "a vnet header by default");
        assertTrue(nic.offloads(), "offloads on by default: " + nic.offloadProblem());
        assertEquals(NicQueue.TX_GATHER | NicQueue.TX_CSUM | NicQueue.TX_TSO4, nic.queue(0).txOffloads());
        assertEquals(65535 + 14, nic.queue(0).maxReceiveFrame());
        byte[] mac = Netdev.hwAddr(name);
        assertEquals(6, mac.length);
        assertNotEquals(0, mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5], "kernel MAC is random, not zero");
        int fd = nic.queue(0).pollFd();
        assertEquals(Libc.O_NONBLOCK, Libc.fileStatusFlags(fd) & Libc.O_NONBLOCK);

        nic.close();
        assertFalse(Netdev.exists(name), "a non-persistent TAP disappears with its last fd");
        nic.close(); // idempotent
    }

    @Test
    void withoutOffloadsTheTapIsPlainAndFramesAreBoundedByTheMtu() {
        TapNic nic = open(tapName(), 1, TapNic.Options.NO_OFFLOAD);
        assertEquals(Tun.IFF_TAP | Tun.IFF_NO_PI, nic.kernelFlags(0) & 0xffff);
        assertFalse(nic.offloads());
        assertEquals(null, nic.offloadProblem(), "not asked for, so no problem");
        assertEquals(0, nic.queue(0).txOffloads());
        assertEquals(0, nic.queue(0).maxReceiveFrame());
        assertThrows(UnsupportedOperationException.class, () -> nic.queue(0).transmit(new TxFrame()));
        nic.close();
    }

    @Test
    void aVnetHeaderWithoutOffloadsIsTheOldPathWithAHeader() {
        // what a TAP gets when the kernel refuses TUNSETOFFLOAD: headers, but frames of at most the MTU
        TapNic nic = open(tapName(), 1, new TapNic.Options(true, true, false, false));
        assertEquals(Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR, nic.kernelFlags(0) & 0xffff);
        assertFalse(nic.offloads());
        assertEquals(0, nic.queue(0).txOffloads());
        assertEquals(0, nic.queue(0).maxReceiveFrame());
        nic.close();
    }

    /**
     * A kernel that refuses io_uring ({@code kernel.io_uring_disabled=2}, not namespaced: the
     * test sets it for the open only and puts the old value back) gives a TAP that works with one
     * frame per system call, and says why.
     */
    @Test
    void aKernelThatRefusesIoUringGivesATapWithOneFramePerCall() throws Exception {
        Path sysctl = Path.of("/proc/sys/kernel/io_uring_disabled");
        String before = Files.readString(sysctl).strip();
        TapNic nic;
        Files.writeString(sysctl, "2");
        try {
            nic = open(tapName(), 2, TapNic.Options.DEFAULT);
        } finally {
            Files.writeString(sysctl, before);
        }
        assertFalse(nic.batchIo());
        assertFalse(nic.queue(1).batchIo());
        assertTrue(nic.batchIoProblem().contains("io_uring_setup"), nic.batchIoProblem());
        FrameBatch batch = new FrameBatch(arena, 4, 2048);
        assertEquals(0, nic.queue(0).receive(batch));
        assertEquals(0, nic.queue(0).rxErrors());
    }

    @Test
    void reopeningAnAttachedSingleQueueTapGivesEbusy() {
        String name = tapName();
        open(name, 1, TapNic.Options.DEFAULT);
        NativeException e = assertThrows(NativeException.class, () -> open(name, 1, TapNic.Options.DEFAULT));
        assertEquals(Errno.EBUSY, e.errno());
        assertEquals("TUNSETIFF", e.call());
        assertTrue(e.getMessage().startsWith("TUNSETIFF " + name + ": EBUSY (Device or resource busy): "),
                e.getMessage());
        assertTrue(Netdev.exists(name), "the first attach is unharmed");
    }

    @Test
    void multiQueueTapAttachesOneDescriptorPerQueue() {
        String name = tapName();
        TapNic nic = open(name, 2, TapNic.Options.DEFAULT);
        assertEquals(2, nic.queueCount());
        assertTrue(nic.multiQueue());
        assertNotEquals(nic.queue(0).fd(), nic.queue(1).fd());
        for (int i = 0; i < 2; i++) {
            assertEquals(i, nic.queue(i).index());
            assertTrue((nic.kernelFlags(i) & Tun.IFF_MULTI_QUEUE) != 0);
        }
        assertTrue(Netdev.exists(name));
        // a third queue can join with identical flags; a single-queue attach cannot
        TapNic third = open(name, 2, TapNic.Options.DEFAULT);
        assertEquals(2, third.queueCount());
        NativeException e = assertThrows(NativeException.class, () -> open(name, 1, TapNic.Options.DEFAULT));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("exists with other flags"), e.getMessage());
    }

    @Test
    void badArgumentsAreRejectedBeforeAnySystemCall() {
        assertThrows(IllegalArgumentException.class, () -> TapNic.open("fst-name-too-long-x", 1));
        assertThrows(IllegalArgumentException.class, () -> TapNic.open(tapName(), 0));
        assertThrows(IllegalArgumentException.class, () -> TapNic.open(tapName(), 257));
    }

    @ParameterizedTest(name = "batchIo={0}")
    @ValueSource(booleans = {false, true})
    void aDownTapNeitherReceivesNorTransmitsAndNeverThrows(boolean batchIo) {
        TapNic nic = open(tapName(), 1, TapNic.Options.DEFAULT.withBatchIo(batchIo));
        TapQueue q = nic.queue(0);
        FrameBatch batch = new FrameBatch(arena, 4, 2048);
        assertEquals(0, q.receive(batch));
        assertEquals(0, q.rxErrors(), "EAGAIN is not an error");
        MemorySegment frame = arena.allocate(60);
        // held for the flush when batched: the refusal is counted when its completion comes
        assertEquals(batchIo, q.transmit(frame, 0, 60), "the kernel refuses writes while the device is down");
        q.flush();
        assertEquals(1, q.txErrors() + q.txDrops());
        assertEquals(0, q.txFrames());
    }

    /**
     * The kernel makes a TAP with rings of 1,000 frames (2 ms of a 500,000 frames/s flood); the stack
     * raises them to {@link TapNic#RX_RING_FRAMES} so that a netisr off its CPU for a few
     * milliseconds loses nothing: 3,000 datagrams sent while nobody reads all arrive. A longer
     * queue set by an administrator is kept.
     */
    @Test
    void aQueueHoldsThousandsOfFramesForAReaderThatIsAway() throws Exception {
        String tap = tapName();
        TapNic nic = open(tap, 1, TapNic.Options.DEFAULT);
        assertEquals(null, nic.ringProblem());
        assertEquals(TapNic.RX_RING_FRAMES, Netdev.txQueueLen(tap));
        String ns = tapInNamespace(tap);
        run(true, "ip", "-n", ns, "neigh", "add", "198.18.77.2", "lladdr", "02:00:00:00:00:02", "dev", tap);
        int sent = 3000;
        run(true, "ip", "netns", "exec", ns, "python3", "-c", "import socket\n"
                + "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                + "for i in range(" + sent + "): s.sendto(b'flowstack', ('198.18.77.2', 9))");
        TapQueue q = nic.queue(0);
        FrameBatch batch = new FrameBatch(arena, 64, 2048);
        int received = 0;
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (received < sent && System.nanoTime() < deadline) {
            int n = q.receive(batch);
            for (int i = 0; i < n; i++) {
                if (isUdpToUs(batch.slot(i).asSlice(0, batch.length(i)))) {
                    received++;
                }
            }
        }
        assertEquals(sent, received, "datagrams read after the kernel queued them all");
        String stats = run(true, "ip", "-n", ns, "-s", "-j", "link", "show", tap);
        assertTrue(Pattern.compile("\"tx\":\\{\"bytes\":\\d+,\"packets\":\\d+,\"errors\":\\d+,\"dropped\":0,")
                .matcher(stats).find(), "the TAP dropped nothing: " + stats);

        // an administrator's longer queue is kept when another queue attaches
        String mq = tapName();
        open(mq, 2, TapNic.Options.DEFAULT);
        assertEquals(TapNic.RX_RING_FRAMES, Netdev.txQueueLen(mq));
        Netdev.setTxQueueLen(mq, 10_000);
        open(mq, 2, TapNic.Options.DEFAULT);
        assertEquals(10_000, Netdev.txQueueLen(mq));
    }

    /** A TAP moved into a fresh namespace, addressed 198.18.77.1/24 on the kernel side. */
    private String tapInNamespace(String tap) throws Exception {
        String ns = "fsn-" + hex(4);
        namespaces.add(ns);
        run(true, "ip", "netns", "add", ns);
        // no IPv6 MLD/RS noise on the TAP: disable before the device arrives
        run(true, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
        run(true, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
        run(true, "ip", "link", "set", tap, "netns", ns);
        run(true, "ip", "-n", ns, "link", "set", tap, "up");
        run(true, "ip", "-n", ns, "addr", "add", "198.18.77.1/24", "dev", tap);
        assertFalse(Netdev.exists(tap), "the TAP left the root namespace");
        return ns;
    }

    /** Receives until a frame matching {@code wanted} arrives, waiting in poll(); its length. */
    private static int awaitFrame(TapQueue q, FrameBatch batch, MemorySegment copy, Predicate<MemorySegment> wanted) {
        Poller poller = new Poller(1);
        poller.set(0, q.pollFd(), Poller.POLLIN);
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (true) {
            int n = q.receive(batch);
            for (int i = 0; i < n; i++) {
                MemorySegment frame = batch.slot(i).asSlice(0, batch.length(i));
                if (wanted.test(frame)) {
                    MemorySegment.copy(frame, 0, copy, 0, frame.byteSize());
                    return (int) frame.byteSize();
                }
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new AssertionError("no matching frame within " + DEADLINE_NANOS / 1_000_000 + " ms; rx "
                        + q.rxFrames() + " frames");
            }
            if (n == 0) {
                poller.poll((int) left);
            }
        }
    }

    private static boolean bytesAt(MemorySegment frame, long offset, byte[] expected) {
        if (frame.byteSize() < offset + expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (frame.get(ValueLayout.JAVA_BYTE, offset + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean isArpRequestForUs(MemorySegment f) {
        return f.byteSize() >= 42
                && f.get(BE_SHORT, 12) == 0x0806
                && f.get(BE_SHORT, 20) == 1 // op: request
                && bytesAt(f, 28, KERNEL_IP)
                && bytesAt(f, 38, OUR_IP);
    }

    private static boolean isUdpToUs(MemorySegment f) {
        return f.byteSize() >= 42
                && bytesAt(f, 0, OUR_MAC)
                && f.get(BE_SHORT, 12) == 0x0800
                && f.get(ValueLayout.JAVA_BYTE, 23) == 17
                && bytesAt(f, 30, OUR_IP);
    }

    /** Builds a 60-byte ARP reply "198.18.77.2 is at 02:00:00:00:00:02" to the requester. */
    private MemorySegment arpReply(MemorySegment request) {
        MemorySegment r = arena.allocate(60);
        MemorySegment.copy(request, 6, r, 0, 6);                     // eth dst = requester
        MemorySegment.copy(MemorySegment.ofArray(OUR_MAC), 0, r, 6, 6); // eth src
        r.set(BE_SHORT, 12, (short) 0x0806);
        r.set(BE_SHORT, 14, (short) 1);                             // htype Ethernet
        r.set(BE_SHORT, 16, (short) 0x0800);                        // ptype IPv4
        r.set(ValueLayout.JAVA_BYTE, 18, (byte) 6);
        r.set(ValueLayout.JAVA_BYTE, 19, (byte) 4);
        r.set(BE_SHORT, 20, (short) 2);                             // op reply
        MemorySegment.copy(MemorySegment.ofArray(OUR_MAC), 0, r, 22, 6);
        MemorySegment.copy(MemorySegment.ofArray(OUR_IP), 0, r, 28, 4);
        MemorySegment.copy(request, 22, r, 32, 6);                  // tha = requester's sha
        MemorySegment.copy(MemorySegment.ofArray(KERNEL_IP), 0, r, 38, 4);
        return r;                                                   // bytes 42..59: zero padding
    }

    @ParameterizedTest(name = "vnetHeader={0} batchIo={1}")
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void kernelArpRequestIsReceivedAndOurReplyIsLearned(boolean vnetHeader, boolean batchIo) throws Exception {
        String tap = tapName();
        TapNic nic = open(tap, 1, new TapNic.Options(vnetHeader).withBatchIo(batchIo));
        assertEquals(batchIo, nic.batchIo(), nic.batchIoProblem());
        String ns = tapInNamespace(tap);
        TapQueue q = nic.queue(0);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        MemorySegment request = arena.allocate(2048);

        // a UDP datagram to 198.18.77.2 makes the kernel resolve it: ARP request, datagram queued
        run(true, "ip", "netns", "exec", ns, "bash", "-c", "echo flowstack > /dev/udp/198.18.77.2/9");
        int len = awaitFrame(q, batch, request, TapNicTest::isArpRequestForUs);
        assertTrue(len >= 42, "ARP request of " + len + " bytes");
        assertEquals(0xffff, request.get(BE_SHORT, 0) & 0xffff, "broadcast destination");

        assertTrue(q.transmit(arpReply(request), 0, 60));
        q.flush(); // as the owner does at the end of its pass
        assertEquals(1, q.txFrames());
        assertEquals(60, q.txBytes());

        // the kernel learned 02:00:00:00:00:02 and releases the queued datagram to it
        MemorySegment udp = arena.allocate(2048);
        int udpLen = awaitFrame(q, batch, udp, TapNicTest::isUdpToUs);
        assertTrue(udpLen >= 42 + 10, "UDP frame of " + udpLen + " bytes");
        String neigh = run(true, "ip", "-n", ns, "neigh", "show", "198.18.77.2", "dev", tap);
        assertTrue(neigh.contains("lladdr 02:00:00:00:00:02"), "neighbour table: " + neigh);
        assertTrue(q.rxFrames() >= 2);
        assertEquals(0, q.rxErrors());
        assertEquals(0, q.rxTruncated());
    }

    /**
     * With batched I/O a queue's arrival signal shows a frame the kernel queued in memory, with no
     * system call of ours between the arming and the frame's read; armed while a frame waits, it
     * shows at once. Without batched I/O there is no signal (the owner reads on a timer).
     */
    @Test
    void anArmedQueueShowsTheKernelsFrameInMemory() throws Exception {
        String tap = tapName();
        TapNic nic = open(tap, 1, TapNic.Options.DEFAULT.withBatchIo(true));
        assertTrue(nic.batchIo(), nic.batchIoProblem());
        String ns = tapInNamespace(tap);
        TapQueue q = nic.queue(0);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        while (q.receive(batch) > 0) {
            // anything the kernel sent on bringing the device up
        }

        assertTrue(q.armRxSignal());
        assertFalse(q.rxSignalled(), "nothing queued yet");
        long calls = q.batchCalls();
        run(true, "ip", "netns", "exec", ns, "bash", "-c", "echo flowstack > /dev/udp/198.18.77.2/9");
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (!q.rxSignalled() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(q.rxSignalled(), "the kernel's ARP request showed");
        assertEquals(calls, q.batchCalls(), "no io_uring_enter while it waited");
        assertTrue(q.receive(batch) >= 1);
        assertTrue(isArpRequestForUs(batch.slot(0).asSlice(0, batch.length(0))));

        // the kernel asks again (ARP retries once a second): arm only once a frame waits
        Poller poller = new Poller(1);
        poller.set(0, q.pollFd(), Poller.POLLIN);
        deadline = System.nanoTime() + DEADLINE_NANOS;
        while (poller.poll(100) == 0 && System.nanoTime() < deadline) {
            // not read: the frame stays queued
        }
        assertTrue(q.armRxSignal());
        assertTrue(q.rxSignalled(), "armed while a frame waits: signalled at once");
        assertTrue(q.receive(batch) >= 1);

        TapNic plain = open(tapName(), 1, TapNic.Options.DEFAULT.withBatchIo(false));
        assertFalse(plain.queue(0).armRxSignal(), "one frame per call: no signal");
    }

    @Test
    void framesLongerThanTheSlotAreCountedAndDropped() throws Exception {
        String tap = tapName();
        TapNic nic = open(tap, 1, TapNic.Options.DEFAULT);
        String ns = tapInNamespace(tap);
        TapQueue q = nic.queue(0);
        FrameBatch tiny = new FrameBatch(arena, 4, 41); // one byte short of an ARP request
        run(true, "ip", "netns", "exec", ns, "bash", "-c", "echo flowstack > /dev/udp/198.18.77.2/9");
        Poller poller = new Poller(1);
        poller.set(0, q.pollFd(), Poller.POLLIN);
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (q.rxTruncated() == 0 && System.nanoTime() < deadline) {
            if (q.receive(tiny) == 0) {
                poller.poll(100);
            }
        }
        assertTrue(q.rxTruncated() >= 1, "truncated " + q.rxTruncated());
        assertEquals(0, q.rxFrames(), "nothing shorter than 42 bytes was sent");
    }

    @ParameterizedTest(name = "vnetHeader={0} batchIo={1}")
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void receiveAndTransmitDoNotAllocate(boolean vnetHeader, boolean batchIo) throws Exception {
        String tap = tapName();
        TapNic nic = open(tap, 1, new TapNic.Options(vnetHeader).withBatchIo(batchIo));
        tapInNamespace(tap);
        TapQueue q = nic.queue(0);
        FrameBatch batch = new FrameBatch(arena, 8, 2048);
        // to a foreign unicast MAC with a local experimental ethertype: the kernel drops it early
        MemorySegment frame = arena.allocate(1514);
        MemorySegment.copy(MemorySegment.ofArray(new byte[] {0x02, 0, 0, 0, 0, (byte) 0x99}), 0, frame, 0, 6);
        MemorySegment.copy(MemorySegment.ofArray(OUR_MAC), 0, frame, 6, 6);
        frame.set(BE_SHORT, 12, (short) 0x88b5);
        long allocated = steadyStateAllocation(() -> {
            for (int i = 0; i < 20_000; i++) {
                q.transmit(frame, 0, 60 + (i & 1023));
                q.receive(batch);
            }
            q.flush();
        });
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes over 40,000 calls");
        assertEquals(0, q.txErrors());
        assertEquals(0, (q.txFrames() + q.txDrops()) % 20_000, "every transmit was counted once");
        assertTrue(q.txFrames() > 0);
    }

    /**
     * Batched I/O reads a burst the kernel queued on the TAP in order and with few system calls,
     * and holds what it transmits until the flush (the owner's end of pass), a frame too large
     * for a transmit slot flushing the ones before it.
     */
    @ParameterizedTest(name = "vnetHeader={0}")
    @ValueSource(booleans = {false, true})
    void batchedIoReadsABurstInOrderAndWritesAtTheFlush(boolean vnetHeader) throws Exception {
        String tap = tapName();
        TapNic nic = open(tap, 1, new TapNic.Options(vnetHeader).withBatchIo(true));
        assertTrue(nic.batchIo(), nic.batchIoProblem());
        String ns = tapInNamespace(tap);
        run(true, "ip", "-n", ns, "neigh", "add", "198.18.77.2", "lladdr", "02:00:00:00:00:02", "dev", tap);
        TapQueue q = nic.queue(0);
        FrameBatch batch = new FrameBatch(arena, 32, 2048);
        int burst = 300;
        run(true, "ip", "netns", "exec", ns, "bash", "-c",
                "for i in $(seq 1 " + burst + "); do echo $i > /dev/udp/198.18.77.2/9; done");
        long calls0 = q.batchCalls();
        int expected = 1;
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (expected <= burst && System.nanoTime() < deadline) {
            int n = q.receive(batch);
            for (int i = 0; i < n; i++) {
                MemorySegment f = batch.slot(i).asSlice(0, batch.length(i));
                if (isUdpToUs(f)) {
                    int payload = f.get(BE_SHORT, 38) - 8; // the UDP length, less its header
                    String got = new String(f.asSlice(42, payload).toArray(ValueLayout.JAVA_BYTE),
                            StandardCharsets.US_ASCII).trim();
                    assertEquals(String.valueOf(expected), got, "datagrams in the order sent");
                    expected++;
                }
            }
        }
        assertEquals(burst + 1, expected, "every datagram of the burst arrived");
        long calls = q.batchCalls() - calls0;
        assertTrue(calls <= burst / 4, calls + " io_uring_enter calls for " + burst + " frames");
        assertEquals(0, q.rxErrors());

        MemorySegment frame = arena.allocate(9000);
        MemorySegment.copy(MemorySegment.ofArray(new byte[] {0x02, 0, 0, 0, 0, (byte) 0x99}), 0, frame, 0, 6);
        MemorySegment.copy(MemorySegment.ofArray(OUR_MAC), 0, frame, 6, 6);
        frame.set(BE_SHORT, 12, (short) 0x88b5);
        long rx0 = kernelRxPackets(ns, tap);
        long calls1 = q.batchCalls();
        for (int i = 0; i < 5; i++) {
            assertTrue(q.transmit(frame, 0, 60));
        }
        assertEquals(rx0, kernelRxPackets(ns, tap), "held until the flush");
        q.flush();
        assertEquals(rx0 + 5, kernelRxPackets(ns, tap), "all five with the flush");
        assertEquals(calls1 + 1, q.batchCalls(), "one system call for the five");
        assertEquals(5, q.txFrames());
        for (int i = 0; i < 3; i++) {
            assertTrue(q.transmit(frame, 0, 60));
        }
        q.transmit(frame, 0, 4000); // longer than a transmit slot: the three go first, then this one
        assertEquals(rx0 + 9, kernelRxPackets(ns, tap), "the held frames and the large one, no flush needed");
        assertEquals(0, q.txErrors() + q.txDrops());
    }

    private static long kernelRxPackets(String ns, String tap) throws Exception {
        return Long.parseLong(run(true, "ip", "netns", "exec", ns, "cat",
                "/sys/class/net/" + tap + "/statistics/rx_packets").trim());
    }

    /**
     * Allocated bytes of the cheapest of up to 20 runs of {@code body} on this thread: the
     * steady state, once the JIT has compiled (and escape-analysed) the path under test.
     */
    private static long steadyStateAllocation(Runnable body) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long min = Long.MAX_VALUE;
        for (int round = 0; round < 20 && min >= 1024; round++) {
            long before = mx.getThreadAllocatedBytes(tid);
            body.run();
            min = Math.min(min, mx.getThreadAllocatedBytes(tid) - before);
        }
        return min;
    }
}
