/**
 * Byte layouts of the messages that travel on the Agrona rings (issue 9: byte layouts live in
 * {@code wire/}), one class per message: its ring type id, named field offsets, its length, the
 * write methods its sender uses and the read accessors its receiver uses.
 *
 * <p>Like the header views in {@code wire}, every class is stateless: each method takes the
 * ring's {@link java.lang.foreign.MemorySegment} and the message's index in it (the index
 * {@code tryClaim} returned to the sender, or the one the ring's {@code MessageHandler} got), so
 * a message is written and read in place, with no copy and no allocation.
 *
 * <p>Type ids are unique per ring kind, not globally:
 * <ul>
 *   <li>the inter-core rings (one SPSC ring per ordered pair of netisrs): {@link Ipv4FrameMsg},
 *       {@link DatagramMsg}, {@link ArpUpdateMsg}, {@link MigrateAdoptMsg},
 *       {@link MigrateViewMsg}, {@link MigrateMarkMsg}, {@link MigrateMarkFwdMsg},
 *       {@link TcpDoorbellFwdMsg} (ids 1 to 8);</li>
 *   <li>a netisr's application ring (MPSC, application threads to the netisr):
 *       {@link UdpSendMsg} (10) and {@link TcpDoorbellMsg} (11);</li>
 *   <li>a socket's receive rings (SPSC, a netisr to the application thread):
 *       {@link UdpRxDatagramMsg} and {@link UdpRxErrorMsg} on a UDP socket's,
 *       {@link EchoReplyMsg} and {@link EchoErrorMsg} on an ICMP echo socket's (ids 1 and 2).</li>
 * </ul>
 * Multi-byte integers are big-endian (as in {@link io.flowstack.core.wire.Bytes}) unless a field
 * says otherwise; the rings never leave the process.
 */
package io.flowstack.core.wire.msg;
