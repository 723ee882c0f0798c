package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.core.flow.FlowHash;
import io.flowstack.core.wire.Bytes;
import io.flowstack.nativeio.Bpf;
import io.flowstack.nativeio.Libc;
import io.flowstack.nic.SteeringTable;
import io.flowstack.nic.Toeplitz;
import io.flowstack.core.flow.IndirectionTable;
import io.flowstack.nic.packet.ClassicBpf;
import io.flowstack.nic.packet.ToeplitzSteering;
import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The AF_PACKET fanout program ({@link ToeplitzSteering}) picks, frame by frame, the core the
 * stack's flow hash picks ({@link FlowHash} through the default {@link IndirectionTable}), for
 * every kind of input the hash distinguishes: TCP and UDP, other IPv4, fragments, ICMP errors
 * quoting TCP, UDP, other protocols, fragments, short or malformed quotes, and IP options. The
 * program is run by an interpreter that follows the kernel's classic BPF semantics; that the
 * kernel accepts it and steers with it is {@link PacketKernelCases}' job. That the 16-bit fold
 * the programs compute ({@link Toeplitz#hashOfXor}) is the stack's hash is stack-core's
 * {@code FlowHashTest}.
 */
class ToeplitzSteeringTest {
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int ICMP = 1;

    @Test
    void theProgramPicksTheStacksCoreForEveryKindOfFrame() {
        SplittableRandom r = new SplittableRandom(42);
        for (int cores = 1; cores <= 6; cores++) {
            Toeplitz key = Toeplitz.random(r); // the stack's key is random: the program hashes with it too
            FlowHash hash = new FlowHash(key);
            List<ClassicBpf.Insn> program = ToeplitzSteering.program(cores, key).insns();
            IndirectionTable table = new IndirectionTable(cores, hash);
            int[] seen = new int[cores];
            for (int i = 0; i < 30_000; i++) {
                byte[] p = randomDatagram(r);
                int expected = table.core(hash.ofIpv4(MemorySegment.ofArray(p), 0, p.length));
                int actual = ClassicBpfInterpreter.run(program, p, 0x0800);
                int n = i;
                int c = cores;
                assertEquals(expected, actual, () -> "cores " + c + ", datagram " + n + ": "
                        + HexFormat.of().formatHex(p));
                seen[actual]++;
            }
            for (int q = 0; q < cores; q++) {
                assertEquals(true, seen[q] > 30_000 / cores / 2, "every queue gets its share: " + q);
            }
        }
    }

    /**
     * The steering program of the multi-queue TAP and of AF_PACKET ({@code SteeringTable}: the hash translated to eBPF,
     * then the table in a map), run by the kernel itself ({@code BPF_PROG_TEST_RUN}) on Ethernet
     * frames: every IPv4 frame goes to the core the stack's table gives its flow (ICMP errors by
     * their outer addresses), before and after buckets of the table move; other frames to 0.
     */
    @Test
    void theTapProgramPicksTheTablesCoreInTheKernelAndFollowsMovedBuckets() {
        int map = Bpf.createArrayMap(Toeplitz.BUCKETS, "test table");
        int prog = -1;
        try {
            SplittableRandom r = new SplittableRandom(7);
            Toeplitz key = Toeplitz.random(r);
            FlowHash hash = new FlowHash(key);
            IndirectionTable table = new IndirectionTable(2, hash);
            for (int b = 0; b < Toeplitz.BUCKETS; b++) {
                Bpf.updateArray(map, b, table.owner(b));
            }
            prog = SteeringTable.loadProgram(map, "test", key);
            for (int round = 0; round < 2; round++) {
                int[] seen = new int[2];
                for (int i = 0; i < 4000; i++) {
                    byte[] p = randomDatagram(r);
                    boolean icmpError = p[9] == ICMP && (p[0] & 0x0f) * 4 < p.length
                            && List.of(3, 4, 5, 11, 12).contains((int) p[(p[0] & 0x0f) * 4]);
                    int h = icmpError ? hash.hash2(Bytes.i32(MemorySegment.ofArray(p), 12),
                            Bytes.i32(MemorySegment.ofArray(p), 16)) : hash.ofIpv4(MemorySegment.ofArray(p), 0, p.length);
                    int expected = table.core(h);
                    int actual = Bpf.testRun(prog, ethernet(0x0800, p));
                    int n = i;
                    assertEquals(expected, actual, () -> "datagram " + n + ": " + HexFormat.of().formatHex(p));
                    seen[actual]++;
                }
                assertEquals(true, seen[0] > 1000 && seen[1] > 1000, "both queues get frames: " + seen[0] + "/" + seen[1]);
                // the stack moves 40 buckets: the map follows, so does the program
                for (int b = 0; b < 40; b++) {
                    table = table.withBucket(b * 3, 1 - table.owner(b * 3));
                    Bpf.updateArray(map, b * 3, table.owner(b * 3));
                }
            }
            assertEquals(0, Bpf.testRun(prog, ethernet(0x0806, new byte[28])), "ARP goes to queue 0");
        } finally {
            if (prog >= 0) {
                Libc.close(prog);
            }
            Libc.close(map);
        }
    }

    private static byte[] ethernet(int type, byte[] payload) {
        byte[] f = new byte[14 + payload.length];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) 0x02;
            f[6 + i] = (byte) 0x04;
        }
        f[12] = (byte) (type >>> 8);
        f[13] = (byte) type;
        System.arraycopy(payload, 0, f, 14, payload.length);
        return f;
    }

    @Test
    void framesThatAreNotIpv4GoToQueueZero() {
        List<ClassicBpf.Insn> program = ToeplitzSteering.program(4, Toeplitz.WOO_PARK).insns();
        byte[] arp = new byte[28];
        assertEquals(0, ClassicBpfInterpreter.run(program, arp, 0x0806));
        byte[] v6 = datagram(new SplittableRandom(3), 20, TCP, 40);
        v6[0] = 0x60;
        assertEquals(0, ClassicBpfInterpreter.run(program, v6, 0x0800));
        assertEquals(0, ClassicBpfInterpreter.run(program, new byte[10], 0x0800), "too short to load");
    }

    /** A datagram of a random kind (see the class comment), total length = array length. */
    private static byte[] randomDatagram(SplittableRandom r) {
        int ihl = r.nextInt(4) == 0 ? 20 + 4 * r.nextInt(11) : 20;
        switch (r.nextInt(8)) {
            case 0, 1: {
                return datagram(r, ihl, r.nextBoolean() ? TCP : UDP, r.nextInt(8) == 0 ? r.nextInt(4) : 8 + r.nextInt(60));
            }
            case 2: {
                byte[] p = datagram(r, ihl, r.nextBoolean() ? TCP : 47, 8 + r.nextInt(40));
                int frag = r.nextBoolean() ? 0x2000 : 0x2000 | (1 + r.nextInt(100));
                p[6] = (byte) (frag >>> 8 | (r.nextBoolean() ? 0x40 : 0)); // DF may be set too
                p[7] = (byte) frag;
                if (r.nextBoolean()) {
                    p[6] &= ~0x20; // last fragment: offset only
                    p[7] |= 1;
                }
                return p;
            }
            case 3: {
                byte[] p = datagram(r, ihl, ICMP, 8 + r.nextInt(40));
                p[ihl] = (byte) (r.nextBoolean() ? 8 : 0); // echo request/reply: addresses only
                return p;
            }
            default: {
                return icmpError(r, ihl);
            }
        }
    }

    /** An ICMP error quoting a random (sometimes malformed or short) datagram. */
    private static byte[] icmpError(SplittableRandom r, int ihl) {
        int[] errors = {3, 4, 5, 11, 12, 8};
        int innerIhl = r.nextInt(4) == 0 ? 20 + 4 * r.nextInt(4) : 20;
        int innerProto = new int[] {TCP, UDP, ICMP, 132}[r.nextInt(4)];
        int quoted = innerIhl + (r.nextInt(4) == 0 ? r.nextInt(8) : 8);
        if (r.nextInt(8) == 0) {
            quoted = 16 + r.nextInt(8); // shorter than an IPv4 header: the outer addresses
        }
        byte[] inner = datagram(r, innerIhl, innerProto, Math.max(0, quoted - innerIhl));
        inner = java.util.Arrays.copyOf(inner, quoted);
        if (r.nextInt(8) == 0) {
            inner[0] = (byte) (r.nextBoolean() ? 0x60 : 0x40 | r.nextInt(5)); // IPv6, or a bad IHL
        }
        if (r.nextInt(8) == 0) {
            inner[6] = 0;
            inner[7] = (byte) (1 + r.nextInt(200)); // not the first fragment: no ports
        }
        byte[] p = datagram(r, ihl, ICMP, 8 + quoted);
        p[ihl] = (byte) errors[r.nextInt(errors.length)];
        System.arraycopy(inner, 0, p, ihl + 8, quoted);
        return p;
    }

    /** IPv4 header of {@code ihl} bytes, then {@code payload} random bytes. */
    private static byte[] datagram(SplittableRandom r, int ihl, int proto, int payload) {
        byte[] p = new byte[ihl + payload];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) r.nextInt(256);
        }
        p[0] = (byte) (0x40 | ihl / 4);
        p[2] = (byte) (p.length >>> 8);
        p[3] = (byte) p.length;
        p[6] = (byte) (r.nextBoolean() ? 0x40 : 0); // DF or nothing: not a fragment
        p[7] = 0;
        p[9] = (byte) proto;
        return p;
    }
}
