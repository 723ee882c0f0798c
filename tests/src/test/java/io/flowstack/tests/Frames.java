package io.flowstack.tests;

import io.flowstack.core.testing.Packets;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Builders for well-formed and deliberately malformed frames from the kernel side of a
 * {@link KernelLab} towards the stack (on top of the independent {@link Packets} builders).
 * Frames to the stack's MAC carry source addresses in 198.18.0.0/24 and destination
 * {@value KernelLab#STACK_IP}.
 */
final class Frames {
    static final int PROTO_ICMP = 1;
    static final int PROTO_UDP = 17;
    static final int STACK_IP = Packets.ip(KernelLab.STACK_IP);
    static final int KERNEL_IP = Packets.ip(KernelLab.KERNEL_IP);

    private final long kernelMac;

    Frames(long kernelMac) {
        this.kernelMac = kernelMac;
    }

    /** An Ethernet frame from the kernel's MAC to the stack's MAC. */
    byte[] toStack(int etherType, byte[] payload) {
        return Packets.ethernet(KernelLab.STACK_MAC, kernelMac, etherType, payload);
    }

    /** An Ethernet frame from the kernel's MAC to another MAC. */
    byte[] toMac(long dst, int etherType, byte[] payload) {
        return Packets.ethernet(dst, kernelMac, etherType, payload);
    }

    /** An Ethernet broadcast from the kernel's MAC. */
    byte[] broadcast(int etherType, byte[] payload) {
        return Packets.ethernet(Packets.BROADCAST, kernelMac, etherType, payload);
    }

    /** An IPv4 frame to the stack. */
    byte[] ipToStack(byte[] datagram) {
        return toStack(Packets.ETH_IPV4, datagram);
    }

    /** A valid ARP request from the kernel for the stack's address (28 bytes). */
    byte[] arpRequest() {
        return Packets.arp(1, kernelMac, KERNEL_IP, 0, STACK_IP);
    }

    /** A valid echo request datagram from {@code src} with {@code dataLen} data bytes. */
    static byte[] echoDatagram(int src, int id, int dataLen) {
        byte[] data = new byte[dataLen];
        for (int i = 0; i < dataLen; i++) {
            data[i] = (byte) (0xA0 + i);
        }
        return Packets.ipv4(src, STACK_IP, PROTO_ICMP, id, 0, Packets.icmpEcho(8, 0x4653, id, data));
    }

    /** A valid UDP datagram from {@code src}:40000 to the stack's {@code dport}. */
    static byte[] udpDatagram(int src, int id, int dport, int dataLen) {
        byte[] data = new byte[dataLen];
        for (int i = 0; i < dataLen; i++) {
            data[i] = (byte) (0x30 + i);
        }
        return Packets.ipv4(src, STACK_IP, PROTO_UDP, id, 0, Packets.udp(src, STACK_IP, 40000, dport, data));
    }

    /** A datagram with protocol {@code proto} carrying {@code payload} raw bytes. */
    static byte[] rawDatagram(int src, int id, int proto, int fragWord, byte[] payload) {
        return Packets.ipv4(src, STACK_IP, proto, id, fragWord, payload);
    }

    /** Recomputes the IPv4 header checksum over {@code hl} bytes (after a header change). */
    static byte[] fixIpChecksum(byte[] d, int hl) {
        d[10] = 0;
        d[11] = 0;
        int c = Packets.checksum(d, 0, hl, 0);
        d[10] = (byte) (c >>> 8);
        d[11] = (byte) c;
        return d;
    }

    /**
     * Corrupts the 16-bit checksum at {@code off}: XOR with 0x5555 never maps a value to its
     * ones'-complement twin (0x0000/0xFFFF), so the result is always wrong; a UDP checksum is
     * never made 0 ("no checksum").
     */
    static byte[] corruptChecksum(byte[] b, int off) {
        int c = ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
        int bad = c ^ 0x5555;
        if (bad == 0) {
            bad = c ^ 0x00FF;
        }
        b[off] = (byte) (bad >>> 8);
        b[off + 1] = (byte) bad;
        return b;
    }

    /** Sets the IPv4 total length field (without fixing the checksum). */
    static byte[] totalLength(byte[] d, int total) {
        ByteBuffer.wrap(d).putShort(2, (short) total);
        return d;
    }

    /**
     * One fragment of {@code datagram} (20-byte header): payload bytes {@code [start, end)}, with
     * MF as given; header checksum fixed.
     */
    static byte[] fragment(byte[] datagram, int start, int end, boolean more) {
        byte[] f = new byte[20 + end - start];
        System.arraycopy(datagram, 0, f, 0, 20);
        System.arraycopy(datagram, 20 + start, f, 20, end - start);
        ByteBuffer b = ByteBuffer.wrap(f);
        b.putShort(2, (short) f.length);
        b.putShort(6, (short) ((start / 8) | (more ? 0x2000 : 0)));
        return fixIpChecksum(f, 20);
    }

    /** A fragment with an explicit offset field (8-byte units), payload and MF. */
    static byte[] fragmentAt(int src, int id, int proto, int offsetUnits, boolean more, byte[] payload) {
        return rawDatagram(src, id, proto, offsetUnits | (more ? 0x2000 : 0), payload);
    }

    static byte[] prefix(byte[] b, int len) {
        return Arrays.copyOf(b, len);
    }
}
