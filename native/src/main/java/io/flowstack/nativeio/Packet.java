package io.flowstack.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * AF_PACKET constants, struct layouts and control-path helpers from {@code linux/if_packet.h}
 * (x86_64 values, FRAME-IO §4.1), so that nothing needs kernel headers at run time.
 *
 * <p>Ring layout rules are those of the kernel's {@code Documentation/networking/packet_mmap.rst}
 * ("TPACKET_V3 ... example", "AF_PACKET TX ring"); each constant names the field it locates.
 * Multi-byte fields of the ring headers are in host byte order (little-endian here).
 *
 * <p>Every helper throws {@link NativeException} naming the option and the interface, e.g.
 * {@code PACKET_FANOUT veth0 (group 3, mode cpu): EINVAL (Invalid argument)}.
 *
 * <p>Owned by: nobody (stateless, thread safe; control path only: the helpers allocate).
 */
public final class Packet {
    /** {@code SOL_PACKET}: the socket option level. */
    public static final int SOL_PACKET = 263;

    /** {@code ETH_P_ALL}, host order. */
    public static final int ETH_P_ALL = 0x0003;
    /** {@code htons(ETH_P_ALL)}: the value {@code socket()} and {@code sockaddr_ll} expect. */
    public static final short ETH_P_ALL_BE = 0x0300;

    // SOL_PACKET options
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): join a {@code struct packet_mreq} membership,
     * e.g. promiscuous mode.
     */
    public static final int PACKET_ADD_MEMBERSHIP = 1;
    /** {@code packet(7)} option ({@link #SOL_PACKET}): leave a {@code packet_mreq} membership. */
    public static final int PACKET_DROP_MEMBERSHIP = 2;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): create the memory-mapped receive ring
     * ({@code struct tpacket_req3} for V3).
     */
    public static final int PACKET_RX_RING = 5;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): read and reset the socket's counters
     * ({@code struct tpacket_stats_v3}).
     */
    public static final int PACKET_STATISTICS = 6;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): deliver a {@code tpacket_auxdata} control
     * message with each packet.
     */
    public static final int PACKET_AUXDATA = 8;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): the ring header version, {@link #TPACKET_V1}
     * to {@link #TPACKET_V3}; set before the ring.
     */
    public static final int PACKET_VERSION = 10;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): (get) the header length of the version passed
     * in the value.
     */
    public static final int PACKET_HDRLEN = 11;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): headroom reserved before each received frame
     * in the ring.
     */
    public static final int PACKET_RESERVE = 12;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): with a TPACKET_V1/V2 receive ring, a frame
     * longer than a ring slot is put in the slot cut to it, marked {@link #TP_STATUS_COPY}, and
     * queued whole on the socket's receive queue for {@code recv} (any non-zero value turns it on;
     * {@code net/packet/af_packet.c}, {@code tpacket_rcv}: {@code po->copy_thresh}).
     */
    public static final int PACKET_COPY_THRESH = 7;
    /** {@code packet(7)} option ({@link #SOL_PACKET}): create the memory-mapped transmit ring. */
    public static final int PACKET_TX_RING = 13;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): on TX, skip malformed frames in the ring
     * instead of stopping at them.
     */
    public static final int PACKET_LOSS = 14;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): a {@code struct virtio_net_hdr} before each
     * frame.
     */
    public static final int PACKET_VNET_HDR = 15;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): the timestamp source of the ring's frames
     * ({@code SOF_TIMESTAMPING_*}).
     */
    public static final int PACKET_TIMESTAMP = 17;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): join a fanout group:
     * {@code id | type_flags << 16} (see {@link #joinFanout}).
     */
    public static final int PACKET_FANOUT = 18;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): on TX, each frame's data offset is given by
     * {@code tp_mac}/{@code tp_net}.
     */
    public static final int PACKET_TX_HAS_OFF = 19;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): transmit straight to the driver, bypassing
     * the qdisc layer.
     */
    public static final int PACKET_QDISC_BYPASS = 20;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): (get) rollover counters of a fanout socket.
     */
    public static final int PACKET_ROLLOVER_STATS = 21;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): the program of a {@link #PACKET_FANOUT_EBPF}
     * (or CBPF) group, an fd.
     */
    public static final int PACKET_FANOUT_DATA = 22;
    /**
     * {@code packet(7)} option ({@link #SOL_PACKET}): do not receive the packets this host sends.
     */
    public static final int PACKET_IGNORE_OUTGOING = 23;

    /** {@code packet_mreq.mr_type}: promiscuous mode, reference-counted by the kernel. */
    public static final short PACKET_MR_PROMISC = 1;

    // tpacket versions
    /** {@link #PACKET_VERSION} value: the original ring header, {@code struct tpacket_hdr}. */
    public static final int TPACKET_V1 = 0;
    /** {@link #PACKET_VERSION} value: {@code struct tpacket2_hdr}, fixed-size frames. */
    public static final int TPACKET_V2 = 1;
    /**
     * {@link #PACKET_VERSION} value: {@code struct tpacket3_hdr}, variable-size frames in blocks
     * (what the stack uses).
     */
    public static final int TPACKET_V3 = 2;

    // sll_pkttype
    /** {@code sll_pkttype}: addressed to this host. */
    public static final int PACKET_HOST = 0;
    /** {@code sll_pkttype}: link-layer broadcast. */
    public static final int PACKET_BROADCAST = 1;
    /** {@code sll_pkttype}: link-layer multicast. */
    public static final int PACKET_MULTICAST = 2;
    /** {@code sll_pkttype}: addressed to another host (seen in promiscuous mode). */
    public static final int PACKET_OTHERHOST = 3;
    /** {@code sll_pkttype}: sent by this host, looped back to packet sockets. */
    public static final int PACKET_OUTGOING = 4;

    // RX status bits (tp_status of a frame, block_status of a V3 block)
    /** RX status: the slot or block belongs to the kernel. */
    public static final int TP_STATUS_KERNEL = 0;
    /**
     * RX status: the slot or block has been filled and belongs to user space until it writes
     * {@link #TP_STATUS_KERNEL} back.
     */
    public static final int TP_STATUS_USER = 1;
    /**
     * RX status: the frame was truncated to the slot; the whole frame is available by
     * {@code recvfrom}.
     */
    public static final int TP_STATUS_COPY = 1 << 1;
    /**
     * RX status: frames were dropped for a full ring since the last {@link #PACKET_STATISTICS}
     * read.
     */
    public static final int TP_STATUS_LOSING = 1 << 2;
    /**
     * RX status: the transport checksum is not computed yet (CHECKSUM_PARTIAL, an outgoing or
     * offloaded frame).
     */
    public static final int TP_STATUS_CSUMNOTREADY = 1 << 3;
    /** RX status: {@code tp_vlan_tci} holds the stripped VLAN tag. */
    public static final int TP_STATUS_VLAN_VALID = 1 << 4;
    /**
     * RX block status: the block was retired by the timeout ({@code retire_blk_tov}), not because
     * it was full.
     */
    public static final int TP_STATUS_BLK_TMO = 1 << 5;
    /** RX status: {@code tp_vlan_tpid} is valid. */
    public static final int TP_STATUS_VLAN_TPID_VALID = 1 << 6;
    /** RX status: the transport checksum was verified (by the NIC or the kernel). */
    public static final int TP_STATUS_CSUM_VALID = 1 << 7;
    /**
     * RX status (Linux 6.3+): the frame is a TCP GSO super-frame (the kernel does not say its
     * segment size without a virtio-net header).
     */
    public static final int TP_STATUS_GSO_TCP = 1 << 8;

    // TX status values (tp_status of a TX frame)
    /** TX status: the slot is free for user space to fill. */
    public static final int TP_STATUS_AVAILABLE = 0;
    /** TX status: user space filled the slot; the kernel sends it on the next {@code send}. */
    public static final int TP_STATUS_SEND_REQUEST = 1;
    /** TX status: the kernel is sending the slot. */
    public static final int TP_STATUS_SENDING = 1 << 1;
    /**
     * TX status: the kernel refused the slot's frame (bad length or offset); with
     * {@link #PACKET_LOSS} off the ring stops there.
     */
    public static final int TP_STATUS_WRONG_FORMAT = 1 << 2;

    // fanout modes (low byte of type_flags) and flags
    /** Fanout mode: by the flow hash of the packet. */
    public static final int PACKET_FANOUT_HASH = 0;
    /** Fanout mode: round robin. */
    public static final int PACKET_FANOUT_LB = 1;
    /** Fanout mode: by the CPU the packet arrived on. */
    public static final int PACKET_FANOUT_CPU = 2;
    /** Fanout mode: fill one socket, then move to the next when it is full. */
    public static final int PACKET_FANOUT_ROLLOVER = 3;
    /** Fanout mode: at random. */
    public static final int PACKET_FANOUT_RND = 4;
    /** Fanout mode: by the NIC receive queue ({@code skb_get_rx_queue}). */
    public static final int PACKET_FANOUT_QM = 5;
    /** Fanout mode: by a classic BPF program given with {@link #PACKET_FANOUT_DATA}. */
    public static final int PACKET_FANOUT_CBPF = 6;
    /** Fanout mode: by an eBPF program given with {@link #PACKET_FANOUT_DATA}. */
    public static final int PACKET_FANOUT_EBPF = 7;
    /** Fanout flag: move to another socket when the chosen one is full. */
    public static final int PACKET_FANOUT_FLAG_ROLLOVER = 0x1000;
    /** Fanout flag: let the kernel choose an unused group id. */
    public static final int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
    /** Fanout flag: do not deliver the packets this host sends. */
    public static final int PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000;
    /** Fanout flag: reassemble IP fragments before choosing the socket. */
    public static final int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

    /** {@code TPACKET_ALIGNMENT}: every ring header and frame start is aligned to it. */
    public static final int TPACKET_ALIGNMENT = 16;

    /** {@code struct sockaddr_ll} (20 bytes). */
    public static final int SOCKADDR_LL_SIZE = 20;
    /** Offset of {@code sll_family} (u16, {@code AF_PACKET}) in {@code struct sockaddr_ll}. */
    public static final long SLL_FAMILY = 0;
    /** Offset of {@code sll_protocol} (u16, network order) in {@code struct sockaddr_ll}. */
    public static final long SLL_PROTOCOL = 2;
    /** Offset of {@code sll_ifindex} (int) in {@code struct sockaddr_ll}. */
    public static final long SLL_IFINDEX = 4;
    /** Offset of {@code sll_hatype} (u16, ARPHRD_*) in {@code struct sockaddr_ll}. */
    public static final long SLL_HATYPE = 8;
    /**
     * Offset of {@code sll_pkttype} (u8, e.g. {@link #PACKET_OUTGOING}) in
     * {@code struct sockaddr_ll}.
     */
    public static final long SLL_PKTTYPE = 10;
    /** Offset of {@code sll_halen} (u8) in {@code struct sockaddr_ll}. */
    public static final long SLL_HALEN = 11;
    /** Offset of {@code sll_addr[8]} in {@code struct sockaddr_ll}. */
    public static final long SLL_ADDR = 12;

    /** {@code struct packet_mreq} (16 bytes): ifindex, type, alen, address[8]. */
    public static final int PACKET_MREQ_SIZE = 16;

    /**
     * {@code struct tpacket_req3} (28 bytes): block_size, block_nr, frame_size, frame_nr,
     * retire_blk_tov (ms), sizeof_priv, feature_req_word.
     */
    public static final int TPACKET_REQ3_SIZE = 28;

    /**
     * {@code struct tpacket_block_desc} (V3 block header, 48 bytes): version@0,
     * offset_to_priv@4, then {@code hdr.bh1}: block_status@8, num_pkts@12,
     * offset_to_first_pkt@16, blk_len@20, seq_num(u64)@24, ts_first_pkt@32, ts_last_pkt@40.
     */
    public static final int BLOCK_DESC_SIZE = 48;
    /** Offset of {@code version} (u32) in {@code struct tpacket_block_desc}. */
    public static final long BLOCK_VERSION = 0;
    /** Offset of {@code offset_to_priv} (u32) in {@code struct tpacket_block_desc}. */
    public static final long BLOCK_OFFSET_TO_PRIV = 4;
    /**
     * Offset of {@code block_status} (u32, {@code TP_STATUS_*}) in
     * {@code struct tpacket_block_desc}.
     */
    public static final long BLOCK_STATUS = 8;
    /** Offset of {@code num_pkts} (u32) in {@code struct tpacket_block_desc}. */
    public static final long BLOCK_NUM_PKTS = 12;
    /**
     * Offset of {@code offset_to_first_pkt} (u32, from the block start) in
     * {@code struct tpacket_block_desc}.
     */
    public static final long BLOCK_OFFSET_TO_FIRST_PKT = 16;
    /** Offset of {@code blk_len} (u32) in {@code struct tpacket_block_desc}. */
    public static final long BLOCK_LEN = 20;
    /** Offset of {@code seq_num} (u64) in {@code struct tpacket_block_desc}. */
    public static final long BLOCK_SEQ_NUM = 24;

    /**
     * {@code struct tpacket3_hdr} (48 bytes): tp_next_offset@0, tp_sec@4, tp_nsec@8,
     * tp_snaplen@12, tp_len@16, tp_status@20, tp_mac(u16)@24, tp_net(u16)@26, hv1.tp_rxhash@28,
     * hv1.tp_vlan_tci@32, hv1.tp_vlan_tpid(u16)@36. A {@code sockaddr_ll} follows at
     * {@link #TPACKET3_SLL}; the frame starts at {@code hdr + tp_mac}.
     */
    public static final int TPACKET3_HDR_SIZE = 48;
    /**
     * Offset of {@code tp_next_offset} (u32, to the next frame of the block, 0 for the last) in
     * {@code struct tpacket3_hdr}.
     */
    public static final long TP3_NEXT_OFFSET = 0;
    /** Offset of {@code tp_sec} (u32) in {@code struct tpacket3_hdr}. */
    public static final long TP3_SEC = 4;
    /** Offset of {@code tp_nsec} (u32) in {@code struct tpacket3_hdr}. */
    public static final long TP3_NSEC = 8;
    /**
     * Offset of {@code tp_snaplen} (u32, bytes stored in the ring) in {@code struct tpacket3_hdr}.
     */
    public static final long TP3_SNAPLEN = 12;
    /**
     * Offset of {@code tp_len} (u32, the frame's length on the wire) in
     * {@code struct tpacket3_hdr}.
     */
    public static final long TP3_LEN = 16;
    /** Offset of {@code tp_status} (u32, {@code TP_STATUS_*}) in {@code struct tpacket3_hdr}. */
    public static final long TP3_STATUS = 20;
    /**
     * Offset of {@code tp_mac} (u16, from the header to the frame) in {@code struct tpacket3_hdr}.
     */
    public static final long TP3_MAC = 24;
    /**
     * Offset of {@code tp_net} (u16, from the header to the network header) in
     * {@code struct tpacket3_hdr}.
     */
    public static final long TP3_NET = 26;
    /** Offset of {@code hv1.tp_rxhash} (u32) in {@code struct tpacket3_hdr}. */
    public static final long TP3_RXHASH = 28;
    /** Offset of {@code hv1.tp_vlan_tci} (u32) in {@code struct tpacket3_hdr}. */
    public static final long TP3_VLAN_TCI = 32;
    /** Offset of {@code hv1.tp_vlan_tpid} (u16) in {@code struct tpacket3_hdr}. */
    public static final long TP3_VLAN_TPID = 36;
    /** {@code TPACKET_ALIGN(sizeof(struct tpacket3_hdr))}: where the kernel puts sockaddr_ll. */
    public static final long TPACKET3_SLL = 48;
    /** {@code TPACKET3_HDRLEN} = TPACKET_ALIGN(sizeof(tpacket3_hdr)) + sizeof(sockaddr_ll). */
    public static final int TPACKET3_HDRLEN = 68;
    /**
     * Offset of the frame data in a TX ring slot: {@code TPACKET3_HDRLEN - sizeof(sockaddr_ll)}
     * = 48 (the kernel's {@code tpacket_parse_header}; FRAME-IO §8 pitfall 1).
     */
    public static final int TX_DATA_OFFSET_V3 = TPACKET3_HDRLEN - SOCKADDR_LL_SIZE;

    /**
     * {@code struct tpacket2_hdr} (32 bytes): tp_status@0, tp_len@4, tp_snaplen@8, tp_mac(u16)@12,
     * tp_net(u16)@14, tp_sec@16, tp_nsec@20, tp_vlan_tci(u16)@24, tp_vlan_tpid(u16)@26, padding.
     * A {@code sockaddr_ll} follows at {@link #TPACKET2_SLL}; the frame starts at
     * {@code hdr + tp_mac}. Every slot has its own status (FRAME-IO §4.1).
     */
    public static final int TPACKET2_HDR_SIZE = 32;
    /** Offset of {@code tp_status} (u32) in {@code struct tpacket2_hdr}. */
    public static final long TP2_STATUS = 0;
    /** Offset of {@code tp_len} (u32, the frame's length on the wire) in {@code struct tpacket2_hdr}. */
    public static final long TP2_LEN = 4;
    /** Offset of {@code tp_snaplen} (u32, bytes stored in the slot) in {@code struct tpacket2_hdr}. */
    public static final long TP2_SNAPLEN = 8;
    /** Offset of {@code tp_mac} (u16, from the header to the frame) in {@code struct tpacket2_hdr}. */
    public static final long TP2_MAC = 12;
    /** Offset of {@code tp_net} (u16) in {@code struct tpacket2_hdr}. */
    public static final long TP2_NET = 14;
    /** Offset of {@code tp_vlan_tci} (u16) in {@code struct tpacket2_hdr}. */
    public static final long TP2_VLAN_TCI = 24;
    /** {@code TPACKET_ALIGN(sizeof(struct tpacket2_hdr))}: where the kernel puts sockaddr_ll. */
    public static final long TPACKET2_SLL = 32;
    /** {@code TPACKET2_HDRLEN} = TPACKET_ALIGN(sizeof(tpacket2_hdr)) + sizeof(sockaddr_ll). */
    public static final int TPACKET2_HDRLEN = 52;
    /**
     * Offset of the frame data in a V2 TX ring slot: {@code TPACKET2_HDRLEN - sizeof(sockaddr_ll)}
     * = 32 ({@code tpacket_parse_header}).
     */
    public static final int TX_DATA_OFFSET_V2 = TPACKET2_HDRLEN - SOCKADDR_LL_SIZE;

    /** {@code struct tpacket_stats_v3} (12 bytes): tp_packets, tp_drops, tp_freeze_q_cnt. */
    public static final int TPACKET_STATS_V3_SIZE = 12;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT;

    private Packet() {
    }

    /**
     * {@code TPACKET_ALIGN(x)}: {@code x} rounded up to {@link #TPACKET_ALIGNMENT}.
     *
     * @param x a non-negative length
     * @return the aligned length
     */
    public static int align(int x) {
        return (x + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
    }

    /**
     * A raw AF_PACKET socket with protocol 0, non-blocking and close-on-exec. Protocol 0 keeps
     * it deaf until {@link #bind} (created with ETH_P_ALL it would receive from every interface
     * at once, FRAME-IO §8 pitfall 9).
     *
     * @return the socket's descriptor
     * @throws NativeException if {@code socket(2)} fails, e.g. {@code EPERM} without
     *     {@code CAP_NET_RAW}
     */
    public static int openSocket() {
        return Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
    }

    /**
     * {@code setsockopt(SOL_PACKET, option, int value)} with the interface in the message.
     *
     * @param fd an AF_PACKET socket
     * @param option a {@code PACKET_*} option
     * @param value the value
     * @param optionName the option's name, for error messages
     * @param ifname the interface name, for error messages
     * @throws NativeException if {@code setsockopt(2)} fails
     */
    public static void setInt(int fd, int option, int value, String optionName, String ifname) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(INT, value);
            Libc.setsockopt(fd, SOL_PACKET, option, v, 4, optionName, ifname);
        }
    }

    /**
     * {@code getsockopt(SOL_PACKET, option)} of one int, passing {@code input} in the buffer.
     *
     * @param fd an AF_PACKET socket
     * @param option a {@code PACKET_*} option
     * @param input the value placed in the buffer first, e.g. the version for
     *     {@link #PACKET_HDRLEN}
     * @param optionName the option's name, for error messages
     * @return the value the kernel wrote
     * @throws NativeException if {@code getsockopt(2)} fails
     */
    public static int getInt(int fd, int option, int input, String optionName) {
        return Libc.getsockoptInt(fd, SOL_PACKET, option, input, optionName);
    }

    /**
     * {@code PACKET_RX_RING} or {@code PACKET_TX_RING} with a {@code struct tpacket_req3}
     * (packet_mmap.rst: block_size a multiple of the page size, frame_size a multiple of
     * {@link #TPACKET_ALIGNMENT}, frame_nr = block_size / frame_size * block_nr; a V3 TX ring
     * must leave retire_blk_tov, sizeof_priv and feature_req_word at 0).
     *
     * @param fd an AF_PACKET socket with {@link #PACKET_VERSION} set to {@link #TPACKET_V3}
     * @param option {@link #PACKET_RX_RING} or {@link #PACKET_TX_RING}
     * @param blockSize bytes per block, a multiple of the page size
     * @param blockNr the number of blocks
     * @param frameSize bytes per frame slot, a multiple of {@link #TPACKET_ALIGNMENT}
     * @param retireTimeoutMs RX: how long a partly filled block waits before the kernel hands it
     *     over, in milliseconds; 0 on TX
     * @param ifname the interface name, for error messages
     * @throws NativeException if {@code setsockopt(2)} fails, e.g. {@code EINVAL} for a bad
     *     geometry or {@code EBUSY} if a ring exists
     */
    public static void setRing(int fd, int option, int blockSize, int blockNr, int frameSize,
                               int retireTimeoutMs, String ifname) {
        int frameNr = blockSize / frameSize * blockNr;
        String name = option == PACKET_RX_RING ? "PACKET_RX_RING" : "PACKET_TX_RING";
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment req = arena.allocate(TPACKET_REQ3_SIZE, 8);
            req.set(INT, 0, blockSize);
            req.set(INT, 4, blockNr);
            req.set(INT, 8, frameSize);
            req.set(INT, 12, frameNr);
            req.set(INT, 16, retireTimeoutMs);
            req.set(INT, 20, 0);
            req.set(INT, 24, 0);
            Libc.setsockopt(fd, SOL_PACKET, option, req, TPACKET_REQ3_SIZE, name,
                    ifname + " (block_size " + blockSize + ", block_nr " + blockNr + ", frame_size "
                            + frameSize + ", frame_nr " + frameNr + ", retire_blk_tov " + retireTimeoutMs + " ms)");
        }
    }

    /**
     * {@code bind(fd, sockaddr_ll{AF_PACKET, protocol, ifindex})}; {@code protocolBe} is in
     * network order ({@link #ETH_P_ALL_BE}).
     *
     * @param fd an AF_PACKET socket
     * @param ifindex the interface index
     * @param protocolBe the EtherType to receive, network order
     * @param ifname the interface name, for error messages
     * @throws NativeException if {@code bind(2)} fails, e.g. {@code ENODEV}
     */
    public static void bind(int fd, int ifindex, short protocolBe, String ifname) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sll = arena.allocate(SOCKADDR_LL_SIZE, 4);
            sll.set(SHORT, SLL_FAMILY, (short) Libc.AF_PACKET);
            sll.set(SHORT, SLL_PROTOCOL, protocolBe);
            sll.set(INT, SLL_IFINDEX, ifindex);
            Libc.bind(fd, sll, SOCKADDR_LL_SIZE, ifname + " (ifindex " + ifindex + ")");
        }
    }

    /**
     * {@code PACKET_ADD_MEMBERSHIP} with {@link #PACKET_MR_PROMISC}: the interface is
     * promiscuous while this socket lives (the kernel drops the membership when it closes).
     *
     * @param fd an AF_PACKET socket
     * @param ifindex the interface index
     * @param ifname the interface name, for error messages
     * @throws NativeException if {@code setsockopt(2)} fails
     */
    public static void addPromiscuous(int fd, int ifindex, String ifname) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mreq = arena.allocate(PACKET_MREQ_SIZE, 4);
            mreq.set(INT, 0, ifindex);
            mreq.set(SHORT, 4, PACKET_MR_PROMISC);
            Libc.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, PACKET_MREQ_SIZE,
                    "PACKET_ADD_MEMBERSHIP(PACKET_MR_PROMISC)", ifname);
        }
    }

    /**
     * Joins fanout group {@code id} with {@code typeFlags} (a PACKET_FANOUT_* mode or'ed with
     * flags); the socket must be bound (EINVAL otherwise, FRAME-IO §4.2).
     *
     * @param fd an AF_PACKET socket, bound
     * @param id the group id, 0 to 65535, shared by the sockets of the group
     * @param typeFlags the mode, e.g. {@link #PACKET_FANOUT_EBPF}, or-ed with
     *     {@code PACKET_FANOUT_FLAG_*}
     * @param ifname the interface name, for error messages
     * @throws NativeException if {@code setsockopt(2)} fails, e.g. {@code EINVAL} when unbound or
     *     the group has another mode
     */
    public static void joinFanout(int fd, int id, int typeFlags, String ifname) {
        int arg = (id & 0xffff) | (typeFlags << 16);
        setInt(fd, PACKET_FANOUT, arg, "PACKET_FANOUT",
                ifname + " (group " + id + ", type_flags 0x" + Integer.toHexString(typeFlags) + ")");
    }

    /**
     * The fanout group this socket is in, as {@code getsockopt(PACKET_FANOUT)} reports it:
     * {@code id | type << 16 | flags << 24}; 0 when it is in none.
     *
     * @param fd an AF_PACKET socket
     * @return the group word, or 0
     * @throws NativeException if {@code getsockopt(2)} fails
     */
    public static int fanout(int fd) {
        return getInt(fd, PACKET_FANOUT, 0, "getsockopt(PACKET_FANOUT)");
    }

    /**
     * Reads and resets ({@code PACKET_STATISTICS} is clear-on-read) the socket's kernel
     * counters: {@code [tp_packets, tp_drops, tp_freeze_q_cnt]}. tp_packets counts every frame
     * the socket accepted, tp_drops those lost because the ring was full.
     *
     * @param fd an AF_PACKET socket
     * @return a new array of three counters since the last call
     * @throws NativeException if {@code getsockopt(2)} fails
     */
    public static int[] statistics(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(TPACKET_STATS_V3_SIZE, 4);
            Libc.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, st, TPACKET_STATS_V3_SIZE,
                    "getsockopt(PACKET_STATISTICS)");
            return new int[] {st.get(INT, 0), st.get(INT, 4), st.get(INT, 8)};
        }
    }
}
