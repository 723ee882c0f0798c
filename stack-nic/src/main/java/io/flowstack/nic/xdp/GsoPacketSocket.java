package io.flowstack.nic.xdp;

import io.flowstack.nativeio.Libc;
import io.flowstack.nativeio.NativeException;
import io.flowstack.nativeio.Packet;
import io.flowstack.nic.TxFrame;
import io.flowstack.nic.VnetGather;
import java.lang.foreign.Arena;

/**
 * The companion of an {@link XdpQueue} in copy mode: an AF_PACKET socket on the same interface
 * with {@code PACKET_VNET_HDR}, through which the queue sends a {@link TxFrame} (a TCP
 * super-frame whose checksum holds the pseudo-header sum) with one gathering {@code writev}
 * ({@link VnetGather}: a 10-byte {@code struct virtio_net_hdr}, the headers, the payload slices).
 * The kernel ({@code packet_snd}, {@code virtio_net_hdr_to_skb}) makes it a GSO skb with a partial
 * checksum, which the device segments and checksums (in hardware, or in software on the way out
 * when it lacks TSO), or takes whole if it accepts GSO packets: a veth hands it to its peer as one
 * skb. An AF_XDP socket cannot do this: its TX ring takes one MTU-sized frame per descriptor.
 *
 * <p>Set up by {@link #open}, in the order packet(7) requires (FRAME-IO §4.2):
 * <ol>
 *   <li>{@code socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)}: protocol 0, so it
 *       receives nothing (it is bound with protocol 0 too: no receive hook is ever registered);
 *       non-blocking, so a full socket buffer is {@code EAGAIN}, never a wait;</li>
 *   <li>{@code PACKET_VNET_HDR = 1}: every frame written starts with a {@code virtio_net_hdr};</li>
 *   <li>{@code SO_SNDBUFFORCE} (else {@code SO_SNDBUF}, capped at {@code wmem_max}: {@code Libc.setSocketBuffer}) of
 *       {@value #SNDBUF} bytes: room for 64 super-frames of 64 KiB that the device, its qdisc or
 *       the veth peer's backlog still holds;</li>
 *   <li>{@code bind(sockaddr_ll{AF_PACKET, protocol 0, ifindex})}: frames are sent on the
 *       interface; the kernel reads the EtherType from the Ethernet header
 *       ({@code packet_parse_headers}).</li>
 * </ol>
 *
 * <p><b>No {@code PACKET_QDISC_BYPASS}</b>, although a copy-mode AF_XDP socket bypasses the qdisc
 * too: with it a super-frame that the device cannot take whole (TSO off, e.g. a veth with
 * {@code ethtool -K IF tx off tso off}) is dropped, {@code ENOBUFS}, instead of being segmented in
 * software (measured on 6.18 by {@code XdpGsoKernelTest}; the direct transmit path,
 * {@code __dev_direct_xmit}, refuses an skb that {@code validate_xmit_skb} had to cut into a
 * list). Through the device's queueing layer it is segmented and checksummed in software when the
 * device lacks TSO. The cost is ordering only where a real qdisc holds a backlog: a veth's
 * {@code noqueue} sends in the calling thread, and an idle qdisc is run in the calling thread
 * too; a qdisc that is already backed up (the driver's queue stopped) sends the super-frame later,
 * possibly after frames the queue puts on the XDP TX ring afterwards.
 *
 * <p>Owned by: the thread that opens the NIC ({@link #open}, {@link #close()}); {@link #send} is
 * then called only by the queue's netisr thread. The iovecs live in a shared arena, freed by
 * {@link #close()}.
 */
final class GsoPacketSocket {
    /** Send buffer asked for: 64 super-frames of 64 KiB in flight. */
    static final int SNDBUF = 4 << 20;

    private final int fd;
    private final Arena arena;
    private final VnetGather gather;

    /**
     * Wraps a descriptor that takes {@code [virtio_net_hdr, frame]} writes (tests use a pipe).
     *
     * @param fd the descriptor, closed by {@link #close()}
     */
    GsoPacketSocket(int fd) {
        this.fd = fd;
        this.arena = Arena.ofShared();
        this.gather = new VnetGather(arena);
    }

    /**
     * Opens and binds the socket (see the class comment).
     *
     * @param ifname the interface, for messages
     * @param ifindex its index
     * @return the bound socket
     * @throws NativeException naming the failed call, e.g.
     *     {@code setsockopt PACKET_VNET_HDR veth0: ...}
     */
    static GsoPacketSocket open(String ifname, int ifindex) {
        int fd = Packet.openSocket();
        try {
            Packet.setInt(fd, Packet.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR", ifname);
            Libc.setSocketBuffer(fd, true, SNDBUF);
            Packet.bind(fd, ifindex, (short) 0, ifname);
            return new GsoPacketSocket(fd);
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /**
     * Writes {@code frame} behind its vnet header (owner only; never blocks, never allocates).
     *
     * @param frame the frame, in native memory
     * @return bytes written (the 10-byte header included), or {@code -errno}: {@code -EAGAIN} for
     *     a full socket buffer, {@code -ENOBUFS} for a full qdisc or driver queue
     */
    int send(TxFrame frame) {
        return gather.write(fd, frame);
    }

    /** The socket. */
    int fd() {
        return fd;
    }

    /** Closes the socket and frees the iovecs; once, after the owner stopped. */
    void close() {
        try {
            arena.close();
        } finally {
            Libc.close(fd);
        }
    }
}
