package io.flowstack.core.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * TCP segmentation as a device does it (Linux's tcp_gso_segment, for the test NIC): each segment
 * gets the super-frame's headers with its own IPv4 total length, ID (+1 each), header checksum,
 * sequence number and TCP checksum; PSH and FIN only on the last. Stateless.
 */
public final class Tso {
    private Tso() {}

    /** Cuts an Ethernet/IPv4/TCP super-frame whose headers are {@code headLength} bytes. */
    public static List<byte[]> segment(byte[] frame, int headLength, int gsoSize) {
        List<byte[]> out = new ArrayList<>();
        int ip = 14;
        int ihl = (frame[ip] & 0x0F) * 4;
        int tcp = ip + ihl;
        int payload = frame.length - headLength;
        int id = u16(frame, ip + 4);
        long seq = u32(frame, tcp + 4);
        for (int off = 0, i = 0; off < payload; off += gsoSize, i++) {
            int len = Math.min(gsoSize, payload - off);
            boolean last = off + len >= payload;
            byte[] s = new byte[headLength + len];
            System.arraycopy(frame, 0, s, 0, headLength);
            System.arraycopy(frame, headLength + off, s, headLength, len);
            put16(s, ip + 2, s.length - ip);
            put16(s, ip + 4, (id + i) & 0xFFFF);
            put16(s, ip + 10, 0);
            put16(s, ip + 10, Packets.checksum(s, ip, ihl, 0));
            put32(s, tcp + 4, seq + off);
            if (!last) {
                s[tcp + 13] &= (byte) ~0x09; // PSH, FIN
            }
            int tcpLen = s.length - tcp;
            long pseudo = u16(s, ip + 12) + u16(s, ip + 14) + u16(s, ip + 16) + u16(s, ip + 18) + 6 + tcpLen;
            put16(s, tcp + 16, 0);
            put16(s, tcp + 16, Packets.checksum(s, tcp, tcpLen, pseudo));
            out.add(s);
        }
        return out;
    }

    private static int u16(byte[] b, int o) {
        return ((b[o] & 0xFF) << 8) | (b[o + 1] & 0xFF);
    }

    private static long u32(byte[] b, int o) {
        return ((long) u16(b, o) << 16) | u16(b, o + 2);
    }

    private static void put16(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 8);
        b[o + 1] = (byte) v;
    }

    private static void put32(byte[] b, int o, long v) {
        put16(b, o, (int) (v >>> 16));
        put16(b, o + 2, (int) v);
    }
}
