package io.flowstack.tests;

import io.flowstack.core.testing.Packets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Mutates recorded Ethernet frames for {@link KernelMutationTest} (issue 13 point 11): bit
 * flips, byte overwrites, truncation, random tails, and header fields of ARP, IPv4, ICMP, UDP and
 * TCP set to boundary values. Most mutants then get their IPv4 header and transport checksums
 * recomputed, so that they pass the checksum checks and reach the parsers and state machines
 * behind them; the rest keep whatever checksum the mutation left. Deterministic for a seed.
 *
 * <p>Owned by: the test thread that made it.
 */
final class FrameMutator {
    private static final int ETH = 14;
    private static final int[] BOUNDARY_BYTES = {0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF};
    private static final int[] BOUNDARY_SHORTS = {0x0000, 0x0001, 0x0014, 0x003F, 0x0040, 0x05DC, 0x7FFF, 0x8000,
        0xFFF7, 0xFFFF};

    private final List<byte[]> seeds;
    private final SplittableRandom random;

    FrameMutator(List<byte[]> seeds, long seed) {
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("no seed frames to mutate");
        }
        this.seeds = List.copyOf(seeds);
        this.random = new SplittableRandom(seed);
    }

    /** One mutant of a randomly chosen seed: one to three mutations, checksums usually fixed. */
    byte[] next() {
        byte[] f = seeds.get(random.nextInt(seeds.size())).clone();
        int rounds = 1 + random.nextInt(3);
        for (int i = 0; i < rounds; i++) {
            f = mutate(f);
        }
        if (f.length < ETH) {
            // the kernel refuses a frame below the Ethernet header (dev_validate_header): pad it
            f = Arrays.copyOf(f, ETH);
        }
        if (random.nextInt(4) != 0) {
            fixChecksums(f);
        }
        return f;
    }

    private byte[] mutate(byte[] f) {
        switch (random.nextInt(9)) {
            case 0 -> { // flip one bit anywhere past the Ethernet addresses
                if (f.length > 12) {
                    int i = 12 + random.nextInt(f.length - 12);
                    f[i] ^= (byte) (1 << random.nextInt(8));
                }
                return f;
            }
            case 1 -> { // a random byte in the headers
                if (f.length > ETH) {
                    int i = ETH + random.nextInt(Math.min(f.length - ETH, 60));
                    f[i] = (byte) random.nextInt(256);
                }
                return f;
            }
            case 2 -> { // truncate
                return Arrays.copyOf(f, random.nextInt(f.length + 1));
            }
            case 3 -> { // a random tail
                byte[] g = Arrays.copyOf(f, Math.min(f.length + 1 + random.nextInt(64), 1514));
                for (int i = f.length; i < g.length; i++) {
                    g[i] = (byte) random.nextInt(256);
                }
                return g;
            }
            case 4 -> { // an IPv4 or ARP header byte to a boundary value
                if (f.length > ETH + 20) {
                    f[ETH + random.nextInt(20)] = (byte) pick(BOUNDARY_BYTES);
                }
                return f;
            }
            case 5 -> { // IPv4 total length, ID or fragment word to a boundary value
                if (ipv4(f)) {
                    int field = new int[] {2, 4, 6}[random.nextInt(3)];
                    put16(f, ETH + field, pick(BOUNDARY_SHORTS));
                }
                return f;
            }
            case 6 -> { // a transport header field (ports, seq/ack, offset and flags, window, UDP length)
                int l4 = l4Offset(f);
                if (l4 > 0 && f.length > l4 + 16) {
                    int field = new int[] {0, 2, 4, 6, 8, 12, 13, 14}[random.nextInt(8)];
                    f[l4 + field] = (byte) pick(BOUNDARY_BYTES);
                }
                return f;
            }
            case 7 -> { // TCP options: random kinds and lengths where options are
                int l4 = l4Offset(f);
                if (l4 > 0 && (f[ETH + 9] & 0xFF) == 6 && f.length > l4 + 20) {
                    int dataOffset = ((f[l4 + 12] & 0xFF) >>> 4) * 4;
                    for (int i = l4 + 20; i < Math.min(l4 + Math.max(dataOffset, 24), f.length); i++) {
                        if (random.nextInt(3) == 0) {
                            f[i] = (byte) (random.nextInt(2) == 0 ? pick(BOUNDARY_BYTES) : random.nextInt(9));
                        }
                    }
                }
                return f;
            }
            default -> { // the destination MAC: broadcast, or a stranger
                if (f.length >= 6) {
                    byte v = (byte) (random.nextBoolean() ? 0xFF : 0x02);
                    Arrays.fill(f, 0, 6, v);
                }
                return f;
            }
        }
    }

    private int pick(int[] values) {
        return values[random.nextInt(values.length)];
    }

    private static boolean ipv4(byte[] f) {
        return f.length >= ETH + 20 && (f[12] & 0xFF) == 0x08 && f[13] == 0x00;
    }

    /** Offset of the transport header of an unfragmented-looking IPv4 frame, or -1. */
    private static int l4Offset(byte[] f) {
        if (!ipv4(f)) {
            return -1;
        }
        int ihl = (f[ETH] & 0x0F) * 4;
        return ihl >= 20 && f.length > ETH + ihl ? ETH + ihl : -1;
    }

    /**
     * Recomputes the IPv4 header checksum, and for a first fragment or whole datagram of ICMP,
     * UDP or TCP whose lengths fit the frame, the transport checksum (with the pseudo-header for
     * UDP and TCP). Leaves frames that are not plausibly IPv4 alone.
     */
    static void fixChecksums(byte[] f) {
        if (!ipv4(f)) {
            return;
        }
        int ihl = (f[ETH] & 0x0F) * 4;
        if (ihl < 20 || ETH + ihl > f.length) {
            return;
        }
        put16(f, ETH + 10, 0);
        put16(f, ETH + 10, Packets.checksum(f, ETH, ihl, 0));
        int total = get16(f, ETH + 2);
        int fragOffset = get16(f, ETH + 6) & 0x1FFF;
        if (fragOffset != 0 || total < ihl || ETH + total > f.length) {
            return;
        }
        int l4 = ETH + ihl;
        int l4Len = total - ihl;
        int proto = f[ETH + 9] & 0xFF;
        int csumAt = switch (proto) {
            case 1 -> 2;
            case 6 -> 16;
            case 17 -> 6;
            default -> -1;
        };
        if (csumAt < 0 || l4Len < csumAt + 2) {
            return;
        }
        put16(f, l4 + csumAt, 0);
        long pseudo = 0;
        if (proto != 1) {
            pseudo = get16(f, ETH + 12) + get16(f, ETH + 14) + get16(f, ETH + 16) + get16(f, ETH + 18) + proto + l4Len;
        }
        int sum = Packets.checksum(f, l4, l4Len, pseudo);
        if (proto == 17 && sum == 0) {
            sum = 0xFFFF; // RFC 768: a computed zero is sent as all ones
        }
        put16(f, l4 + csumAt, sum);
    }

    private static int get16(byte[] b, int i) {
        return ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
    }

    private static void put16(byte[] b, int i, int v) {
        b[i] = (byte) (v >>> 8);
        b[i + 1] = (byte) v;
    }
}
