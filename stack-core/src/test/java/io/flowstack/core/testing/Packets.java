package io.flowstack.core.testing;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An independent packet builder and parser for tests (byte arrays, no shared code with the
 * stack's wire views, so a bug in one is caught by the other).
 */
public final class Packets {
    public static final int ETH_IPV4 = 0x0800;
    public static final int ETH_ARP = 0x0806;
    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    private Packets() {}

    public static int ip(String dotted) {
        String[] p = dotted.split("\\.");
        return (Integer.parseInt(p[0]) << 24) | (Integer.parseInt(p[1]) << 16) | (Integer.parseInt(p[2]) << 8)
                | Integer.parseInt(p[3]);
    }

    public static int checksum(byte[] b, int off, int len, long initial) {
        long sum = initial;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((b[off + i] & 0xFF) << 8) | (b[off + i + 1] & 0xFF);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xFF) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    public static byte[] ethernet(long dst, long src, int type, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + payload.length);
        putMac(b, dst);
        putMac(b, src);
        b.putShort((short) type);
        b.put(payload);
        return b.array();
    }

    static void putMac(ByteBuffer b, long mac) {
        b.putShort((short) (mac >>> 32));
        b.putInt((int) mac);
    }

    public static byte[] arp(int op, long sha, int spa, long tha, int tpa) {
        ByteBuffer b = ByteBuffer.allocate(28);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) op);
        putMac(b, sha);
        b.putInt(spa);
        putMac(b, tha);
        b.putInt(tpa);
        return b.array();
    }

    /** IPv4 datagram with a correct header checksum. */
    public static byte[] ipv4(int src, int dst, int proto, int id, int fragWord, byte[] payload) {
        byte[] d = new byte[20 + payload.length];
        ByteBuffer b = ByteBuffer.wrap(d);
        b.put((byte) 0x45).put((byte) 0).putShort((short) d.length).putShort((short) id)
                .putShort((short) fragWord).put((byte) 64).put((byte) proto).putShort((short) 0)
                .putInt(src).putInt(dst).put(payload);
        int c = checksum(d, 0, 20, 0);
        d[10] = (byte) (c >>> 8);
        d[11] = (byte) c;
        return d;
    }

    /** IPv4 datagram whose header carries {@code options} (a multiple of 4 bytes), checksum correct. */
    public static byte[] ipv4WithOptions(int src, int dst, int proto, int id, byte[] options, byte[] payload) {
        if (options.length % 4 != 0 || options.length > 40) {
            throw new IllegalArgumentException("options must be 4-byte words, at most 40 bytes");
        }
        int hl = 20 + options.length;
        byte[] d = new byte[hl + payload.length];
        ByteBuffer b = ByteBuffer.wrap(d);
        b.put((byte) (0x40 | hl / 4)).put((byte) 0).putShort((short) d.length).putShort((short) id)
                .putShort((short) 0).put((byte) 64).put((byte) proto).putShort((short) 0)
                .putInt(src).putInt(dst).put(options).put(payload);
        int c = checksum(d, 0, hl, 0);
        d[10] = (byte) (c >>> 8);
        d[11] = (byte) c;
        return d;
    }

    public static byte[] icmpEcho(int type, int id, int seq, byte[] data) {
        byte[] m = new byte[8 + data.length];
        ByteBuffer.wrap(m).put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) id)
                .putShort((short) seq).put(data);
        int c = checksum(m, 0, m.length, 0);
        m[2] = (byte) (c >>> 8);
        m[3] = (byte) c;
        return m;
    }

    /**
     * An ICMP error message (RFC 792) quoting the IP header and first 8 data bytes of the IPv4
     * datagram in frame {@code about}; {@code mtu} goes in the low half of the unused word
     * (RFC 1191 4, fragmentation needed).
     */
    public static byte[] icmpError(int type, int code, int mtu, byte[] about) {
        int ihl = (about[14] & 0x0F) * 4;
        byte[] m = new byte[8 + ihl + 8];
        ByteBuffer.wrap(m).put((byte) type).put((byte) code).putShort((short) 0).putShort((short) 0)
                .putShort((short) mtu).put(about, 14, ihl + 8);
        int c = checksum(m, 0, m.length, 0);
        m[2] = (byte) (c >>> 8);
        m[3] = (byte) c;
        return m;
    }

    public static byte[] udp(int src, int dst, int sport, int dport, byte[] data) {
        byte[] u = new byte[8 + data.length];
        ByteBuffer.wrap(u).putShort((short) sport).putShort((short) dport).putShort((short) u.length)
                .putShort((short) 0).put(data);
        long pseudo = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + 17 + u.length;
        int c = checksum(u, 0, u.length, pseudo);
        if (c == 0) {
            c = 0xFFFF;
        }
        u[6] = (byte) (c >>> 8);
        u[7] = (byte) c;
        return u;
    }

    /** Splits a datagram (20-byte header) into fragments of at most {@code mtu} bytes. */
    public static List<byte[]> fragment(byte[] datagram, int mtu) {
        int hl = (datagram[0] & 0xF) * 4;
        int chunk = (mtu - hl) & ~7;
        List<byte[]> out = new ArrayList<>();
        int payload = datagram.length - hl;
        for (int start = 0; start < payload; start += chunk) {
            int len = Math.min(chunk, payload - start);
            boolean last = start + len >= payload;
            byte[] f = new byte[hl + len];
            System.arraycopy(datagram, 0, f, 0, hl);
            System.arraycopy(datagram, hl + start, f, hl, len);
            int word = (start / 8) | (last ? 0 : 0x2000);
            ByteBuffer b = ByteBuffer.wrap(f);
            b.putShort(2, (short) f.length);
            b.putShort(6, (short) word);
            b.putShort(10, (short) 0);
            int c = checksum(f, 0, hl, 0);
            b.putShort(10, (short) c);
            out.add(f);
        }
        return out;
    }

    /** A parsed frame: Ethernet fields plus IPv4 fields when present. */
    public record Frame(byte[] bytes, long dst, long src, int type) {
        public int ipProto() { return bytes[14 + 9] & 0xFF; }
        public int ipSrc() { return ByteBuffer.wrap(bytes).getInt(14 + 12); }
        public int ipDst() { return ByteBuffer.wrap(bytes).getInt(14 + 16); }
        public int ipHeaderLength() { return (bytes[14] & 0xF) * 4; }
        public int ipTotalLength() { return ByteBuffer.wrap(bytes).getShort(14 + 2) & 0xFFFF; }
        public int ipId() { return ByteBuffer.wrap(bytes).getShort(14 + 4) & 0xFFFF; }
        public int fragWord() { return ByteBuffer.wrap(bytes).getShort(14 + 6) & 0xFFFF; }
        public boolean isFragment() { return (fragWord() & 0x3FFF) != 0; }
        /** The IPv4 datagram (header + payload, Ethernet padding removed). */
        public byte[] datagram() { return Arrays.copyOfRange(bytes, 14, 14 + ipTotalLength()); }
        /** Bytes after the IPv4 header. */
        public byte[] l4() { return Arrays.copyOfRange(bytes, 14 + ipHeaderLength(), 14 + ipTotalLength()); }
        public int arpOp() { return ByteBuffer.wrap(bytes).getShort(14 + 6) & 0xFFFF; }
        public int arpSpa() { return ByteBuffer.wrap(bytes).getInt(14 + 14); }
        public int arpTpa() { return ByteBuffer.wrap(bytes).getInt(14 + 24); }
        public boolean ipChecksumOk() { return checksum(bytes, 14, ipHeaderLength(), 0) == 0; }
    }

    public static Frame parse(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        long dst = ((long) (bb.getShort(0) & 0xFFFF) << 32) | (bb.getInt(2) & 0xFFFFFFFFL);
        long src = ((long) (bb.getShort(6) & 0xFFFF) << 32) | (bb.getInt(8) & 0xFFFFFFFFL);
        return new Frame(b, dst, src, bb.getShort(12) & 0xFFFF);
    }

    /** Reassembles IPv4 fragments (test-side, independent of the stack). */
    public static byte[] reassemble(List<byte[]> datagrams) {
        int hl = (datagrams.get(0)[0] & 0xF) * 4;
        int total = 0;
        for (byte[] d : datagrams) {
            int word = ByteBuffer.wrap(d).getShort(6) & 0xFFFF;
            int off = (word & 0x1FFF) * 8;
            total = Math.max(total, off + d.length - hl);
        }
        byte[] out = new byte[hl + total];
        for (byte[] d : datagrams) {
            int word = ByteBuffer.wrap(d).getShort(6) & 0xFFFF;
            int off = (word & 0x1FFF) * 8;
            if (off == 0) {
                System.arraycopy(d, 0, out, 0, hl);
            }
            System.arraycopy(d, hl, out, hl + off, d.length - hl);
        }
        ByteBuffer.wrap(out).putShort(2, (short) out.length).putShort(6, (short) 0);
        return out;
    }
    // ------------------------------------------------------------------ TCP

    public static final int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;

    /** TCP options for test segments. */
    public static final class TcpOpts {
        public int mss;
        public int wscale = -1;
        public boolean sackPermitted;
        public boolean ts;
        public int tsVal;
        public int tsEcr;
        public int[] sack = new int[0];

        public byte[] encode() {
            ByteBuffer b = ByteBuffer.allocate(60);
            if (mss > 0) {
                b.put((byte) 2).put((byte) 4).putShort((short) mss);
            }
            if (sackPermitted) {
                b.put((byte) 1).put((byte) 1).put((byte) 4).put((byte) 2);
            }
            if (ts) {
                b.put((byte) 1).put((byte) 1).put((byte) 8).put((byte) 10).putInt(tsVal).putInt(tsEcr);
            }
            if (wscale >= 0) {
                b.put((byte) 1).put((byte) 3).put((byte) 3).put((byte) wscale);
            }
            if (sack.length > 0) {
                b.put((byte) 1).put((byte) 1).put((byte) 5).put((byte) (2 + 4 * sack.length));
                for (int v : sack) {
                    b.putInt(v);
                }
            }
            while (b.position() % 4 != 0) {
                b.put((byte) 0);
            }
            return java.util.Arrays.copyOf(b.array(), b.position());
        }
    }

    /** A TCP segment with a correct checksum. */
    public static byte[] tcp(int src, int dst, int sport, int dport, int seq, int ack, int flags, int window,
                             byte[] options, byte[] data) {
        int hl = 20 + options.length;
        byte[] t = new byte[hl + data.length];
        ByteBuffer b = ByteBuffer.wrap(t);
        b.putShort((short) sport).putShort((short) dport).putInt(seq).putInt(ack)
                .put((byte) ((hl / 4) << 4)).put((byte) flags).putShort((short) window)
                .putShort((short) 0).putShort((short) 0).put(options).put(data);
        long pseudo = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + 6 + t.length;
        int c = checksum(t, 0, t.length, pseudo);
        t[16] = (byte) (c >>> 8);
        t[17] = (byte) c;
        return t;
    }

    /** Parsed TCP segment of a frame (test-side decoder). */
    public record TcpSeg(int sport, int dport, int seq, int ack, int flags, int window, int mss, int wscale,
                         boolean sackPermitted, boolean ts, int tsVal, int tsEcr, int[] sack, byte[] data,
                         boolean checksumOk) {
        public boolean has(int f) {
            return (flags & f) == f;
        }
    }

    public static TcpSeg tcpOf(Frame f) {
        byte[] t = f.l4();
        ByteBuffer b = ByteBuffer.wrap(t);
        int hl = ((t[12] & 0xFF) >>> 4) * 4;
        int mss = 0, ws = -1, tsVal = 0, tsEcr = 0;
        boolean sp = false, ts = false;
        int[] sack = new int[0];
        int p = 20;
        while (p < hl) {
            int kind = t[p] & 0xFF;
            if (kind == 0) break;
            if (kind == 1) { p++; continue; }
            int len = t[p + 1] & 0xFF;
            switch (kind) {
                case 2 -> mss = b.getShort(p + 2) & 0xFFFF;
                case 3 -> ws = t[p + 2] & 0xFF;
                case 4 -> sp = true;
                case 8 -> { ts = true; tsVal = b.getInt(p + 2); tsEcr = b.getInt(p + 6); }
                case 5 -> {
                    sack = new int[(len - 2) / 4];
                    for (int i = 0; i < sack.length; i++) sack[i] = b.getInt(p + 2 + 4 * i);
                }
                default -> { }
            }
            p += len;
        }
        int src = f.ipSrc(), dst = f.ipDst();
        long pseudo = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + 6 + t.length;
        boolean ok = checksum(t, 0, t.length, pseudo) == 0;
        return new TcpSeg(b.getShort(0) & 0xFFFF, b.getShort(2) & 0xFFFF, b.getInt(4), b.getInt(8), t[13] & 0xFF,
                b.getShort(14) & 0xFFFF, mss, ws, sp, ts, tsVal, tsEcr, sack,
                java.util.Arrays.copyOfRange(t, hl, t.length), ok);
    }
}
