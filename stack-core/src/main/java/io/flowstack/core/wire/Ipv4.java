package io.flowstack.core.wire;

import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * IPv4 header view (RFC 791 section 3.1).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options                    |    Padding    |
 * </pre>
 *
 * Addresses are ints in network order (198.18.0.1 = 0xC6120001). The API's
 * {@link InetAddress} overloads convert with {@link #of(InetAddress)} and
 * {@link #toInetAddress(int)}, the one place where the two forms meet.
 */
public final class Ipv4 {
    public static final int MIN_HEADER = 20;
    /** Largest header: IHL 15 (RFC 791 3.1). */
    public static final int MAX_HEADER = 60;
    /** The version field of IPv4 (RFC 791 3.1). */
    public static final int VERSION = 4;
    /** Fragment offsets count units of 8 octets (RFC 791 3.1, "Fragment Offset"). */
    public static final int FRAGMENT_UNIT = 8;

    // Field offsets from the start of the header (RFC 791 section 3.1).
    /** Version (high 4 bits) and IHL (low 4 bits, in 32-bit words). */
    public static final int VERSION_IHL = 0;
    public static final int TOS = 1;
    public static final int TOTAL_LENGTH = 2;
    public static final int ID = 4;
    /** Flags (top 3 bits) and fragment offset (low 13 bits, in 8-byte units). */
    public static final int FRAG = 6;
    public static final int TTL = 8;
    public static final int PROTOCOL = 9;
    public static final int CHECKSUM = 10;
    public static final int SRC = 12;
    public static final int DST = 16;
    /** First option byte; the options end at IHL * 4. */
    public static final int OPTIONS = 20;
    /** The version/IHL byte of a header without options: version 4, IHL 5. */
    public static final int VERSION_IHL_NO_OPTIONS = 0x45;

    public static final int PROTO_ICMP = 1;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;
    public static final int FLAG_DF = 0x4000;
    public static final int FLAG_MF = 0x2000;
    public static final int OFFSET_MASK = 0x1FFF;
    public static final int MAX_DATAGRAM = 65535;
    public static final int BROADCAST = 0xFFFFFFFF;

    // Options (RFC 791 3.1): a single option-type octet (End of Option List, No Operation), or
    // option-type, option-length (counting type and length) and data.
    /** Option type End of Option List: ends the options; also the padding octet (RFC 791 3.1). */
    public static final int OPT_EOL = 0;
    /** Option type No Operation: one octet (RFC 791 3.1). */
    public static final int OPT_NOP = 1;
    /** The copied flag of an option type: the option is copied into every fragment (RFC 791 3.1). */
    public static final int OPT_COPIED = 0x80;
    /** Offset of an option's length octet from its type octet (RFC 791 3.1). */
    public static final int OPT_LENGTH_AT = 1;
    /** The smallest option-length of a multi-octet option: its type and length octets. */
    public static final int OPT_MIN_LENGTH = 2;

    private Ipv4() {}

    public static int version(MemorySegment s, long o) { return Bytes.u8(s, o + VERSION_IHL) >>> 4; }
    /** Header length in bytes (IHL * 4). */
    public static int headerLength(MemorySegment s, long o) { return (Bytes.u8(s, o + VERSION_IHL) & 0xF) * 4; }
    public static int tos(MemorySegment s, long o) { return Bytes.u8(s, o + TOS); }
    public static int totalLength(MemorySegment s, long o) { return Bytes.u16(s, o + TOTAL_LENGTH); }
    public static int id(MemorySegment s, long o) { return Bytes.u16(s, o + ID); }
    /** Flags and fragment offset word (flags in the top 3 bits, offset in 8-byte units). */
    public static int fragWord(MemorySegment s, long o) { return Bytes.u16(s, o + FRAG); }
    public static int ttl(MemorySegment s, long o) { return Bytes.u8(s, o + TTL); }
    public static int protocol(MemorySegment s, long o) { return Bytes.u8(s, o + PROTOCOL); }
    public static int checksum(MemorySegment s, long o) { return Bytes.u16(s, o + CHECKSUM); }
    public static int src(MemorySegment s, long o) { return Bytes.i32(s, o + SRC); }
    public static int dst(MemorySegment s, long o) { return Bytes.i32(s, o + DST); }

    public static boolean isFragment(int fragWord) {
        return (fragWord & (FLAG_MF | OFFSET_MASK)) != 0;
    }

    public static void totalLength(MemorySegment s, long o, int v) { Bytes.u16(s, o + TOTAL_LENGTH, v); }
    public static void fragWord(MemorySegment s, long o, int v) { Bytes.u16(s, o + FRAG, v); }
    public static void ttl(MemorySegment s, long o, int v) { Bytes.u8(s, o + TTL, v); }
    public static void src(MemorySegment s, long o, int v) { Bytes.i32(s, o + SRC, v); }
    public static void dst(MemorySegment s, long o, int v) { Bytes.i32(s, o + DST, v); }
    /** Writes the identification field (RFC 791 3.1). */
    public static void id(MemorySegment s, long o, int v) { Bytes.u16(s, o + ID, v); }
    /** Writes the header checksum field as is (see {@link #updateChecksum} to compute it). */
    public static void checksum(MemorySegment s, long o, int v) { Bytes.u16(s, o + CHECKSUM, v); }
    /** Writes the version/IHL byte: version 4 and a header of {@code headerLength} bytes (a multiple of 4). */
    public static void headerLength(MemorySegment s, long o, int headerLength) {
        Bytes.u8(s, o + VERSION_IHL, (VERSION << 4) | (headerLength / 4));
    }

    /** The TTL and protocol octets as one 16-bit word, as the header checksum sums them (RFC 791 3.1). */
    public static int ttlProtocolWord(MemorySegment s, long o) { return Bytes.u16(s, o + TTL); }

    /**
     * Length of the option whose type octet is at {@code at}, the options ending at {@code end}
     * (RFC 791 3.1): 1 for End of Option List and No Operation, else its option-length octet.
     *
     * @return the option's length in octets, or -1 if it is malformed (no length octet before
     *     {@code end}, a length below 2, or one running past {@code end})
     */
    public static int optionLength(MemorySegment s, long at, long end) {
        int type = Bytes.u8(s, at);
        if (type == OPT_EOL || type == OPT_NOP) {
            return 1;
        }
        if (at + OPT_LENGTH_AT >= end) {
            return -1;
        }
        int len = Bytes.u8(s, at + OPT_LENGTH_AT);
        return len < OPT_MIN_LENGTH || at + len > end ? -1 : len;
    }

    /** Writes a 20-byte header without options and its checksum. */
    public static void write(MemorySegment s, long o, int totalLength, int id, int fragWord,
                             int ttl, int protocol, int src, int dst) {
        Bytes.u8(s, o + VERSION_IHL, VERSION_IHL_NO_OPTIONS);
        Bytes.u8(s, o + TOS, 0);
        Bytes.u16(s, o + TOTAL_LENGTH, totalLength);
        Bytes.u16(s, o + ID, id);
        Bytes.u16(s, o + FRAG, fragWord);
        Bytes.u8(s, o + TTL, ttl);
        Bytes.u8(s, o + PROTOCOL, protocol);
        Bytes.u16(s, o + CHECKSUM, 0);
        Bytes.i32(s, o + SRC, src);
        Bytes.i32(s, o + DST, dst);
        updateChecksum(s, o);
    }

    /** Recomputes the header checksum over IHL*4 bytes (RFC 791 3.1 "Header Checksum"). */
    public static void updateChecksum(MemorySegment s, long o) {
        Bytes.u16(s, o + CHECKSUM, 0);
        Bytes.u16(s, o + CHECKSUM, Checksum.compute(s, o, headerLength(s, o)));
    }

    public static String toString(int addr) {
        return (addr >>> 24) + "." + ((addr >>> 16) & 0xFF) + "." + ((addr >>> 8) & 0xFF) + "."
                + (addr & 0xFF);
    }

    /** Parses dotted-quad notation. */
    public static int parse(String text) {
        String[] p = text.trim().split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        int a = 0;
        for (String part : p) {
            int v;
            try {
                v = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: " + text);
            }
            if (v < 0 || v > 255) {
                throw new IllegalArgumentException("not an IPv4 address: " + text);
            }
            a = (a << 8) | v;
        }
        return a;
    }

    /**
     * The int form of an IPv4 address (its 4 bytes, network order: RFC 791 3.2).
     *
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address (this stack speaks
     *     only IPv4; an IPv4-mapped IPv6 address written in text already parses to IPv4)
     * @throws NullPointerException if {@code address} is null
     */
    public static int of(InetAddress address) {
        if (address == null) {
            throw new NullPointerException("address is null");
        }
        if (!(address instanceof Inet4Address)) {
            throw new IllegalArgumentException("IPv4 only: " + address.getHostAddress()
                    + " is not an IPv4 address (this stack speaks IPv4 only)");
        }
        byte[] b = address.getAddress();
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }

    /**
     * The int form of a socket address's IPv4 address (its port is the caller's to take).
     *
     * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, or if the address
     *     is unresolved (a host name the caller has not looked up: the stack does no DNS)
     * @throws NullPointerException if {@code address} is null
     */
    public static int of(InetSocketAddress address) {
        if (address == null) {
            throw new NullPointerException("socket address is null");
        }
        InetAddress a = address.getAddress();
        if (a == null) {
            throw new IllegalArgumentException("unresolved address " + address.getHostString() + ":"
                    + address.getPort() + ": resolve the name first (the stack does no DNS lookups)");
        }
        return of(a);
    }

    /** The {@link Inet4Address} of an int address (no name lookup). */
    public static InetAddress toInetAddress(int addr) {
        byte[] b = {(byte) (addr >>> 24), (byte) (addr >>> 16), (byte) (addr >>> 8), (byte) addr};
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are always an IPv4 address", e); // getByAddress: only for a bad length
        }
    }

    /** The socket address of an int address and a port (no name lookup). */
    public static InetSocketAddress toSocketAddress(int addr, int port) {
        return new InetSocketAddress(toInetAddress(addr), port);
    }

    /**
     * The prefix length of a network mask (RFC 4632 3.1: the mask's one bits are contiguous and
     * leading), e.g. 255.255.255.0 is 24.
     *
     * @throws IllegalArgumentException if the mask's one bits are not contiguous from the top
     */
    public static int prefixLength(int netmask) {
        int len = Integer.bitCount(netmask);
        if (mask(len) != netmask) {
            throw new IllegalArgumentException("not a network mask (its one bits must be contiguous from the top): "
                    + toString(netmask));
        }
        return len;
    }

    /** Network mask for a prefix length 0..32. */
    public static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }
}
