package io.flowstack.core.wire.msg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.wire.Bytes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Round trip of every ring message layout: written with its class, read back field by field,
 * and compared byte for byte with the encoding the senders wrote by hand before the layouts
 * moved to {@code wire/msg} (so the rings carry exactly what they did).
 */
class MessageLayoutTest {
    /** Messages are written at a non-zero index, as in a ring. */
    private static final int AT = 40;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment m = arena.allocate(256, 8);

    @AfterEach
    void close() {
        arena.close();
    }

    /** The message's bytes: {@code length} bytes at {@link #AT}. */
    private byte[] bytes(int length) {
        return m.asSlice(AT, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Big-endian except where {@code nativeLong} puts a long in the machine's order. */
    private static ByteBuffer expected(int length) {
        return ByteBuffer.allocate(length).order(ByteOrder.BIG_ENDIAN);
    }

    private static ByteBuffer putNativeLong(ByteBuffer b, int at, long v) {
        b.order(ByteOrder.nativeOrder()).putLong(at, v);
        return b.order(ByteOrder.BIG_ENDIAN);
    }

    @Test
    void typeIdsAreTheOnesTheRingsCarry() {
        assertEquals(1, Ipv4FrameMsg.TYPE);
        assertEquals(2, DatagramMsg.TYPE);
        assertEquals(3, ArpUpdateMsg.TYPE);
        assertEquals(4, MigrateAdoptMsg.TYPE);
        assertEquals(5, MigrateViewMsg.TYPE);
        assertEquals(6, MigrateMarkMsg.TYPE);
        assertEquals(7, MigrateMarkFwdMsg.TYPE);
        assertEquals(8, TcpDoorbellFwdMsg.TYPE);
        assertEquals(12, TimeWaitMsg.TYPE);
        assertEquals(10, UdpSendMsg.TYPE);
        assertEquals(11, TcpDoorbellMsg.TYPE);
        assertEquals(1, UdpRxDatagramMsg.TYPE);
        assertEquals(2, UdpRxErrorMsg.TYPE);
        assertEquals(1, EchoReplyMsg.TYPE);
        assertEquals(2, EchoErrorMsg.TYPE);
    }

    @Test
    void ipv4FrameAndDatagramKeepTheDatagramAfterTheEthernetHeader() {
        assertEquals(14, Ipv4FrameMsg.IP);
        assertEquals(0, Ipv4FrameMsg.ETHERNET);
        assertEquals(14 + 1500, Ipv4FrameMsg.length(1500));
        assertEquals(1500, Ipv4FrameMsg.ipLength(Ipv4FrameMsg.length(1500)));
        assertEquals(14, DatagramMsg.IP);
        assertEquals(0, DatagramMsg.ETHERNET);
        assertEquals(14 + 3000, DatagramMsg.length(3000));
        assertEquals(3000, DatagramMsg.ipLength(DatagramMsg.length(3000)));
    }

    @Test
    void arpUpdate() {
        long mac = 0x02_00_5E_10_20_30L;
        ArpUpdateMsg.write(m, AT, 3, 0xC6120001, mac);
        assertEquals(0xC6120001, ArpUpdateMsg.ip(m, AT));
        assertEquals(3, ArpUpdateMsg.iface(m, AT));
        assertEquals(mac, ArpUpdateMsg.mac(m, AT));
        assertEquals(16, ArpUpdateMsg.LENGTH);
        ByteBuffer e = expected(16).putInt(0, 0xC6120001).putInt(4, 3);
        putNativeLong(e, 8, mac);
        assertArrayEquals(e.array(), bytes(ArpUpdateMsg.LENGTH));
    }

    @Test
    void migrateAdopt() {
        MigrateAdoptMsg.write(m, AT, 37, 2);
        assertEquals(37, MigrateAdoptMsg.bucket(m, AT));
        assertEquals(2, MigrateAdoptMsg.from(m, AT));
        assertEquals(8, MigrateAdoptMsg.LENGTH);
        assertArrayEquals(expected(8).putInt(0, 37).putInt(4, 2).array(), bytes(MigrateAdoptMsg.LENGTH));
    }

    @Test
    void migrateView() {
        MigrateViewMsg.write(m, AT, 37, 1, 3);
        assertEquals(37, MigrateViewMsg.bucket(m, AT));
        assertEquals(1, MigrateViewMsg.newOwner(m, AT));
        assertEquals(3, MigrateViewMsg.oldOwner(m, AT));
        assertEquals(12, MigrateViewMsg.LENGTH);
        assertArrayEquals(expected(12).putInt(0, 37).putInt(4, 1).putInt(8, 3).array(),
                bytes(MigrateViewMsg.LENGTH));
    }

    @Test
    void migrateMark() {
        MigrateMarkMsg.write(m, AT, 37, 2, 1);
        assertEquals(37, MigrateMarkMsg.bucket(m, AT));
        assertEquals(2, MigrateMarkMsg.source(m, AT));
        assertEquals(1, MigrateMarkMsg.newOwner(m, AT));
        assertEquals(12, MigrateMarkMsg.LENGTH);
        assertArrayEquals(expected(12).putInt(0, 37).putInt(4, 2).putInt(8, 1).array(),
                bytes(MigrateMarkMsg.LENGTH));
    }

    @Test
    void migrateMarkForwarded() {
        m.asSlice(AT, 12).fill((byte) 0x55); // the reserved word is written, not left over
        MigrateMarkFwdMsg.write(m, AT, 37, 2);
        assertEquals(37, MigrateMarkFwdMsg.bucket(m, AT));
        assertEquals(2, MigrateMarkFwdMsg.source(m, AT));
        assertEquals(12, MigrateMarkFwdMsg.LENGTH);
        assertArrayEquals(expected(12).putInt(0, 37).putInt(4, 2).putInt(8, 0).array(),
                bytes(MigrateMarkFwdMsg.LENGTH));
    }

    @Test
    void tcpDoorbellForwarded() {
        m.asSlice(AT, 12).fill((byte) 0x55);
        TcpDoorbellFwdMsg.write(m, AT, 0x01020304);
        assertEquals(0x01020304, TcpDoorbellFwdMsg.id(m, AT));
        assertEquals(12, TcpDoorbellFwdMsg.LENGTH);
        assertArrayEquals(expected(12).putInt(0, 0x01020304).array(), bytes(TcpDoorbellFwdMsg.LENGTH));
    }

    @Test
    void tcpDoorbell() {
        TcpDoorbellMsg.write(m, AT, 77);
        assertEquals(77, TcpDoorbellMsg.id(m, AT));
        assertEquals(4, TcpDoorbellMsg.LENGTH);
        assertArrayEquals(expected(4).putInt(0, 77).array(), bytes(TcpDoorbellMsg.LENGTH));
    }

    @Test
    void udpSend() {
        byte[] data = {9, 'h', 'e', 'l', 'l', 'o', 9};
        UdpSendMsg.write(m, AT, 0xC6130001, 40000, 53, 0xC6120002, data, 1, 5);
        assertEquals(40000, UdpSendMsg.srcPort(m, AT));
        assertEquals(53, UdpSendMsg.dstPort(m, AT));
        assertEquals(0xC6120002, UdpSendMsg.dst(m, AT));
        assertEquals(0xC6130001, UdpSendMsg.src(m, AT));
        assertEquals(17, UdpSendMsg.length(5));
        assertEquals(5, UdpSendMsg.payloadLength(UdpSendMsg.length(5)));
        ByteBuffer e = expected(17).putShort(0, (short) 40000).putShort(2, (short) 53).putInt(4, 0xC6120002)
                .putInt(8, 0xC6130001).put(12, data, 1, 5);
        assertArrayEquals(e.array(), bytes(UdpSendMsg.length(5)));
    }

    @Test
    void udpReceivedDatagram() {
        MemorySegment payload = arena.allocate(6);
        payload.copyFrom(MemorySegment.ofArray(new byte[] {0, 1, 2, 3, 4, 5}));
        UdpRxDatagramMsg.write(m, AT, 0xC6120002, 5353, 0xC6130001, 7, payload, 1, 4);
        assertEquals(0xC6120002, UdpRxDatagramMsg.src(m, AT));
        assertEquals(5353, UdpRxDatagramMsg.srcPort(m, AT));
        assertEquals(0xC6130001, UdpRxDatagramMsg.dst(m, AT));
        assertEquals(7, UdpRxDatagramMsg.dstPort(m, AT));
        int length = UdpRxDatagramMsg.length(4);
        assertEquals(16, length);
        assertEquals(4, UdpRxDatagramMsg.payloadLength(length));
        ByteBuffer e = expected(16).putInt(0, 0xC6120002).putShort(4, (short) 5353).putShort(6, (short) 7)
                .putInt(8, 0xC6130001).put(12, new byte[] {1, 2, 3, 4});
        assertArrayEquals(e.array(), bytes(length));
        byte[] into = new byte[3];
        UdpRxDatagramMsg.readPayload(m, AT, length, into, 0, 3); // truncated to the room given
        assertArrayEquals(new byte[] {1, 2, 3}, into);
    }

    @Test
    void udpReceivedError() {
        UdpRxErrorMsg.write(m, AT, 0xC6120002, 9999, 3, 3);
        assertEquals(0xC6120002, UdpRxErrorMsg.dst(m, AT));
        assertEquals(9999, UdpRxErrorMsg.dstPort(m, AT));
        assertEquals(3, UdpRxErrorMsg.icmpType(m, AT));
        assertEquals(3, UdpRxErrorMsg.icmpCode(m, AT));
        assertEquals(8, UdpRxErrorMsg.LENGTH);
        assertArrayEquals(expected(8).putInt(0, 0xC6120002).putShort(4, (short) 9999).put(6, (byte) 3)
                .put(7, (byte) 3).array(), bytes(UdpRxErrorMsg.LENGTH));
    }

    @Test
    void echoReply() {
        MemorySegment data = arena.allocate(3);
        data.copyFrom(MemorySegment.ofArray(new byte[] {7, 8, 9}));
        long now = 123_456_789_012L;
        EchoReplyMsg.write(m, AT, 0xC6120002, 64, 65535, now, data, 0, 3);
        assertEquals(0xC6120002, EchoReplyMsg.src(m, AT));
        assertEquals(64, EchoReplyMsg.ttl(m, AT));
        assertEquals(65535, EchoReplyMsg.seq(m, AT));
        assertEquals(now, EchoReplyMsg.receivedAt(m, AT));
        int length = EchoReplyMsg.length(3);
        assertEquals(19, length);
        assertEquals(3, EchoReplyMsg.dataLength(length));
        ByteBuffer e = expected(19).putInt(0, 0xC6120002).put(4, (byte) 64).put(5, (byte) 0)
                .putShort(6, (short) 65535).put(16, new byte[] {7, 8, 9});
        putNativeLong(e, 8, now);
        assertArrayEquals(e.array(), bytes(length));
    }

    @Test
    void echoError() {
        m.asSlice(AT, 24).fill((byte) 0x55);
        long now = -5L;
        EchoErrorMsg.write(m, AT, 0x0A000001, 0xC6120002, 11, 0, 42, now);
        assertEquals(0x0A000001, EchoErrorMsg.from(m, AT));
        assertEquals(0xC6120002, EchoErrorMsg.dst(m, AT));
        assertEquals(11, EchoErrorMsg.icmpType(m, AT));
        assertEquals(0, EchoErrorMsg.icmpCode(m, AT));
        assertEquals(42, EchoErrorMsg.seq(m, AT));
        assertEquals(now, EchoErrorMsg.receivedAt(m, AT));
        assertEquals(24, EchoErrorMsg.LENGTH);
        ByteBuffer e = expected(24).putInt(0, 0x0A000001).putInt(4, 0xC6120002).put(8, (byte) 11)
                .put(9, (byte) 0).putShort(10, (short) 42).putInt(12, 0);
        putNativeLong(e, 16, now);
        assertArrayEquals(e.array(), bytes(EchoErrorMsg.LENGTH));
    }

    @Test
    void heldFrameRecord() {
        MemorySegment frame = arena.allocate(5);
        frame.copyFrom(MemorySegment.ofArray(new byte[] {1, 2, 3, 4, 5}));
        HeldFrameRecord.write(m, AT, 37, 2, Ipv4FrameMsg.TYPE, frame, 0, 5);
        assertEquals(37, HeldFrameRecord.bucket(m, AT));
        assertEquals(2, HeldFrameRecord.source(m, AT));
        assertEquals(Ipv4FrameMsg.TYPE, HeldFrameRecord.msgType(m, AT));
        assertEquals(5, HeldFrameRecord.frameLength(m, AT));
        assertEquals(16 + 8, HeldFrameRecord.size(5), "the frame is padded to 8 bytes");
        assertEquals(16 + 8, HeldFrameRecord.size(8));
        assertEquals(16, HeldFrameRecord.size(0));
        ByteBuffer e = expected(21).putInt(0, 37).putInt(4, 2).putInt(8, 1).putInt(12, 5)
                .put(16, new byte[] {1, 2, 3, 4, 5});
        assertArrayEquals(e.array(), bytes(21));
        assertEquals(1, Bytes.u8(m, AT + HeldFrameRecord.FRAME));
    }

    @Test
    void timeWaitEntries() {
        m.asSlice(AT, TimeWaitMsg.length(2)).fill((byte) 0x55); // reserved bytes are written, not left over
        TimeWaitMsg.writeHeader(m, AT, 2);
        long e0 = TimeWaitMsg.entry(AT, 0);
        long e1 = TimeWaitMsg.entry(AT, 1);
        assertEquals(AT + 8, e0);
        assertEquals(AT + 8 + 48, e1);
        TimeWaitMsg.writeEntry(m, e0, 0xC6130001, 0xC6120001, 40000, 80, 0x11111111, 0x22222222, 1 << 20, 7, true, 0x33333333,
                60_000_000_000L, 1_234_567L);
        TimeWaitMsg.writeEntry(m, e1, 0xC6130101, 0xC6120002, 65535, 8080, -1, -2, 0, 0, false, 0, -5L, 0L);
        assertEquals(2, TimeWaitMsg.count(m, AT));
        assertEquals(0xC6120001, TimeWaitMsg.remoteAddr(m, e0));
        assertEquals(0xC6130001, TimeWaitMsg.localAddr(m, e0));
        assertEquals(0xC6130101, TimeWaitMsg.localAddr(m, e1));
        assertEquals(40000, TimeWaitMsg.remotePort(m, e0));
        assertEquals(80, TimeWaitMsg.localPort(m, e0));
        assertEquals(0x11111111, TimeWaitMsg.sndNxt(m, e0));
        assertEquals(0x22222222, TimeWaitMsg.rcvNxt(m, e0));
        assertEquals(1 << 20, TimeWaitMsg.rcvWnd(m, e0));
        assertEquals(7, TimeWaitMsg.rcvWscale(m, e0));
        assertTrue(TimeWaitMsg.tsOk(m, e0));
        assertEquals(0x33333333, TimeWaitMsg.tsRecent(m, e0));
        assertEquals(60_000_000_000L, TimeWaitMsg.expiresAt(m, e0));
        assertEquals(1_234_567L, TimeWaitMsg.tsRecentAt(m, e0));
        assertEquals(65535, TimeWaitMsg.remotePort(m, e1));
        assertEquals(8080, TimeWaitMsg.localPort(m, e1));
        assertEquals(-1, TimeWaitMsg.sndNxt(m, e1));
        assertFalse(TimeWaitMsg.tsOk(m, e1));
        assertEquals(-5L, TimeWaitMsg.expiresAt(m, e1));
        assertEquals(8 + 2 * 48, TimeWaitMsg.length(2));
        ByteBuffer e = expected(TimeWaitMsg.length(2)).putInt(0, 2).putInt(4, 0)
                .putInt(8, 0xC6120001).putShort(12, (short) 40000).putShort(14, (short) 80).putInt(16, 0x11111111)
                .putInt(20, 0x22222222).putInt(24, 1 << 20).putInt(28, 0x33333333).put(32, (byte) 1).put(33, (byte) 7)
                .putShort(34, (short) 0).putInt(36, 0xC6130001)
                .putInt(56, 0xC6120002).putShort(60, (short) 65535).putShort(62, (short) 8080).putInt(64, -1)
                .putInt(68, -2).putInt(72, 0).putInt(76, 0).put(80, (byte) 0).put(81, (byte) 0)
                .putShort(82, (short) 0).putInt(84, 0xC6130101);
        putNativeLong(e, 40, 60_000_000_000L);
        putNativeLong(e, 48, 1_234_567L);
        putNativeLong(e, 88, -5L);
        putNativeLong(e, 96, 0L);
        assertArrayEquals(e.array(), bytes(TimeWaitMsg.length(2)));
    }
}
