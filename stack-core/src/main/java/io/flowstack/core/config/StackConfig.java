package io.flowstack.core.config;

import io.flowstack.core.wire.Ipv4;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

/**
 * Immutable configuration of one stack instance (one interface, N cores). Build with
 * {@link #builder()}.
 */
public final class StackConfig {
    /** Number of cores (netisr threads, NIC queues), 1..64. */
    public final int cores;
    /** The interface's Ethernet address, in the low 48 bits (first octet most significant); must be unicast. */
    public final long mac;
    /** The stack's IPv4 address, as a big-endian int ({@code 198.18.0.2} is {@code 0xC6120002}); required. */
    public final int address;
    /** Length of the subnet prefix of {@link #address}, 0..32. */
    public final int prefixLength;
    /** IPv4 address of the default router (big-endian int), the next hop off the subnet; 0 for none. */
    public final int gateway;
    /** Layer-3 MTU; 0 takes the NIC's. */
    public final int mtu;
    /**
     * Whether netisr thread i pins itself to CPU i (modulo the CPUs available to the JVM) with
     * {@code sched_setaffinity} when it starts; the command line pins only when the netisrs leave CPUs free (stack-tools' {@code ThreadOptions.pinnedByDefault}).
     */
    public final boolean pinThreads;
    /** Whether an idle netisr keeps spinning instead of backing off to sleep: lower latency, a whole CPU per core. */
    public final boolean busyPoll;
    /**
     * Whether a netisr thread whose load stays low hands its netisr to thread 0 and sleeps, when
     * the netisrs are as many as the CPUs (the netisr package's CoreParking; docs/BENCHMARKS.md).
     */
    public final boolean coreParking;
    /**
     * How long an idle netisr (without {@link #busyPoll}) spins on memory before it blocks in
     * poll(), in nanoseconds: its inbox rings, the application ring and its commands, and its NIC
     * queues' readiness in memory (a mapped ring, a TAP's arrival signal). 0 blocks at once.
     */
    public final long idleSpinNanos;
    /**
     * While an idle netisr spins, how often it reads a NIC queue whose receive is a system call
     * and that cannot signal an arrival in memory ({@code NicQueue.armRxSignal}: a TAP without
     * batched I/O), in nanoseconds: the longest a frame arriving during the spin waits.
     */
    public final long idleNicCheckNanos;
    /**
     * Whether the stack runs the JVM's JIT compiler threads at {@code SCHED_IDLE} priority, so
     * that a compilation a netisr requests does not preempt it (measured: the 1-4 ms outliers of
     * an idle-ish ping, docs/BENCHMARKS.md "Wake-ups"). The compiler then runs on CPU time no
     * netisr or application thread wants: on a machine whose CPUs are saturated (by this
     * process or others) it hardly runs, and code stays interpreted far longer, so it is off by
     * default; a process-wide setting of the JVM that embeds the stack.
     */
    public final boolean jitIdlePriority;
    /** The clock every timer of the stack reads (nanoseconds); tests substitute a manual one. */
    public final NanoClock clock;
    /** How long a resolved ARP entry stays valid, in nanoseconds. */
    public final long arpTimeoutNanos;
    /** Interval between ARP requests for an unresolved address, in nanoseconds. */
    public final long arpRetryNanos;
    /** ARP requests sent for an address before it is declared unreachable and its queued frames dropped. */
    public final int arpRetries;
    /**
     * Bound of each core's ARP table (entries); when full, an old entry is evicted for a new one if
     * one can be, else the new address is not resolved.
     */
    public final int arpMaxEntries;
    /** Frames queued per unresolved neighbour while its ARP request is outstanding. */
    public final int arpQueuePerNeighbour;
    /** Frames each core can hold in all while waiting for ARP resolution (one MTU-sized slot each). */
    public final int arpQueueSlots;
    /**
     * How long an incomplete IPv4 datagram is kept for its missing fragments (RFC 1122 3.3.2), in
     * nanoseconds.
     */
    public final long reassemblyTimeoutNanos;
    /**
     * Fragment payload each core may hold under reassembly, in bytes; beyond it the oldest datagram is
     * evicted.
     */
    public final long reassemblyMemoryBytes;
    /** Datagrams under reassembly at once per core (each takes a 64 KiB buffer). */
    public final int reassemblyMaxDatagrams;
    /** Datagrams under reassembly at once from one source address, per core. */
    public final int reassemblyMaxPerSource;
    /** Fragments accepted for one datagram. */
    public final int reassemblyMaxFragments;
    /** Rate limit of the ICMP error messages each core sends (token bucket refill per second). */
    public final int icmpErrorsPerSecond;
    /** Depth of the ICMP error token bucket: errors that may be sent at once after a quiet period. */
    public final int icmpErrorBurst;
    /**
     * Capacity of each ring that carries messages from one core to another, in bytes; a power of two,
     * at least 1 MiB.
     */
    public final int interCoreRingBytes;
    /**
     * Capacity of each core's ring of commands from application threads, in bytes; a power of two, at
     * least 1 MiB.
     */
    public final int appRingBytes;
    /** Receive buffer of a UDP socket on each core, in bytes; a power of two, at least 64 KiB. */
    public final int udpReceiveBufferBytes;
    /** Frames a netisr reads from its NIC queue in one receive call. */
    public final int rxBatch;
    /**
     * Bytes each core may keep of frames held while a bucket that moved to it settles
     * (docs/REBALANCING.md). Half is for frames read from its NIC queue, which is not read while
     * one more receive batch would not fit in that half; the rest for frames from other cores.
     */
    public final int moveHoldBytes;
    /** Default send buffer of a TCP connection, in bytes; a power of two, at least 4 KiB. */
    public final int tcpSendBufferBytes;
    /**
     * Default receive buffer of a TCP connection, in bytes (it bounds the advertised window); a power
     * of two, at least 4 KiB.
     */
    public final int tcpReceiveBufferBytes;
    /**
     * Half-open connections (SYN received) each listener keeps per core; past it SYN cookies answer,
     * if enabled, else the SYN is dropped.
     */
    public final int tcpSynBacklog;
    /**
     * TCP connections the whole stack may hold (split evenly between the cores). A cap, not a
     * reservation: an idle established connection of the callback API costs about 700 bytes
     * (docs/BENCHMARKS.md, "Memory per connection"), so the default holds a million.
     */
    public final int tcpMaxConnections;
    /** How long a connection stays in TIME-WAIT (2 MSL, RFC 9293 3.6), in nanoseconds. */
    public final long tcpTimeWaitNanos;
    /**
     * TIME-WAIT entries the whole stack keeps (split evenly between the cores), like Linux's
     * {@code tcp_max_tw_buckets}; past it the oldest entry ends early (counted
     * {@code tcp_time_wait_overflow}). Not counted against {@link #tcpMaxConnections}.
     */
    public final int tcpMaxTimeWait;
    /** Lower bound of the retransmission timeout (RFC 6298), in nanoseconds. */
    public final long tcpRtoMinNanos;
    /** Upper bound of the retransmission timeout, backoff included, in nanoseconds. */
    public final long tcpRtoMaxNanos;
    /** Retransmission timeout before any round-trip time is measured (RFC 6298 2.1), in nanoseconds. */
    public final long tcpRtoInitialNanos;
    /** Retransmissions of a SYN or SYN-ACK before the connection attempt is given up. */
    public final int tcpSynRetries;
    /** Retransmissions of a segment of an established connection before the connection is given up. */
    public final int tcpMaxRetries;
    /** How long an ACK may be delayed (RFC 9293 3.8.6.3), in nanoseconds. */
    public final long tcpDelayedAckNanos;
    /**
     * In-order segments ACKed without delay at a connection's start and after an idle receive
     * side (Linux's quick-ack mode, at most 16 there); 0 turns quick ACKs off.
     */
    public final int tcpQuickAcks;
    /** Default congestion control algorithm, one of {@link CongestionControls#NAMES}. */
    public final String tcpCongestionControl;
    /** Idle time before the first keepalive probe of a connection with SO_KEEPALIVE, in nanoseconds. */
    public final long tcpKeepaliveIdleNanos;
    /** Interval between unanswered keepalive probes, in nanoseconds. */
    public final long tcpKeepaliveIntervalNanos;
    /** Unanswered keepalive probes after which the connection is dropped. */
    public final int tcpKeepaliveProbes;
    /** Rate limit of challenge ACKs (RFC 5961 section 7) each core sends, per second. */
    public final int tcpChallengeAcksPerSecond;
    /** Whether SYN cookies (RFC 4987 3.6) answer SYNs once a listener's SYN backlog is full. */
    public final boolean tcpSynCookies;
    /**
     * Memory all TCP connections' buffers may take, in bytes (split evenly between the cores; never
     * more than three quarters of the JVM's direct memory limit).
     */
    public final long tcpMemoryBytes;

    private StackConfig(Builder b) {
        this.cores = b.cores;
        this.mac = b.mac;
        this.address = b.address;
        this.prefixLength = b.prefixLength;
        this.gateway = b.gateway;
        this.mtu = b.mtu;
        this.pinThreads = b.pinThreads;
        this.busyPoll = b.busyPoll;
        this.coreParking = b.coreParking;
        this.idleSpinNanos = b.idleSpinNanos;
        this.idleNicCheckNanos = b.idleNicCheckNanos;
        this.jitIdlePriority = b.jitIdlePriority;
        this.clock = b.clock;
        this.arpTimeoutNanos = b.arpTimeoutNanos;
        this.arpRetryNanos = b.arpRetryNanos;
        this.arpRetries = b.arpRetries;
        this.arpMaxEntries = b.arpMaxEntries;
        this.arpQueuePerNeighbour = b.arpQueuePerNeighbour;
        this.arpQueueSlots = b.arpQueueSlots;
        this.reassemblyTimeoutNanos = b.reassemblyTimeoutNanos;
        this.reassemblyMemoryBytes = b.reassemblyMemoryBytes;
        this.reassemblyMaxDatagrams = b.reassemblyMaxDatagrams;
        this.reassemblyMaxPerSource = b.reassemblyMaxPerSource;
        this.reassemblyMaxFragments = b.reassemblyMaxFragments;
        this.icmpErrorsPerSecond = b.icmpErrorsPerSecond;
        this.icmpErrorBurst = b.icmpErrorBurst;
        this.interCoreRingBytes = b.interCoreRingBytes;
        this.appRingBytes = b.appRingBytes;
        this.udpReceiveBufferBytes = b.udpReceiveBufferBytes;
        this.rxBatch = b.rxBatch;
        this.moveHoldBytes = b.moveHoldBytes;
        this.tcpSendBufferBytes = b.tcpSendBufferBytes;
        this.tcpReceiveBufferBytes = b.tcpReceiveBufferBytes;
        this.tcpSynBacklog = b.tcpSynBacklog;
        this.tcpMaxConnections = b.tcpMaxConnections;
        this.tcpTimeWaitNanos = b.tcpTimeWaitNanos;
        this.tcpMaxTimeWait = b.tcpMaxTimeWait;
        this.tcpRtoMinNanos = b.tcpRtoMinNanos;
        this.tcpRtoMaxNanos = b.tcpRtoMaxNanos;
        this.tcpRtoInitialNanos = b.tcpRtoInitialNanos;
        this.tcpSynRetries = b.tcpSynRetries;
        this.tcpMaxRetries = b.tcpMaxRetries;
        this.tcpDelayedAckNanos = b.tcpDelayedAckNanos;
        this.tcpQuickAcks = b.tcpQuickAcks;
        this.tcpCongestionControl = b.tcpCongestionControl;
        this.tcpKeepaliveIdleNanos = b.tcpKeepaliveIdleNanos;
        this.tcpKeepaliveIntervalNanos = b.tcpKeepaliveIntervalNanos;
        this.tcpKeepaliveProbes = b.tcpKeepaliveProbes;
        this.tcpChallengeAcksPerSecond = b.tcpChallengeAcksPerSecond;
        this.tcpSynCookies = b.tcpSynCookies;
        this.tcpMemoryBytes = b.tcpMemoryBytes;
    }

    /**
     * A new builder with the defaults listed on each of its setters.
     *
     * @return a new builder; not thread-safe, use it from one thread
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The subnet mask of {@link #prefixLength}.
     *
     * @return the mask as a big-endian int ({@code /24} is {@code 0xFFFFFF00})
     */
    public int netmask() {
        return Ipv4.mask(prefixLength);
    }

    /**
     * The stack's IPv4 address ({@link #address}) as an {@link InetAddress}.
     *
     * @return the address
     */
    public InetAddress inetAddress() {
        return Ipv4.toInetAddress(address);
    }

    /**
     * The default gateway ({@link #gateway}), or null if none is configured.
     *
     * @return the gateway, or null
     */
    public InetAddress inetGateway() {
        return gateway == 0 ? null : Ipv4.toInetAddress(gateway);
    }

    /**
     * The subnet's network mask ({@link #netmask()}), e.g. 255.255.255.0 for a /24.
     *
     * @return the mask
     */
    public InetAddress inetNetmask() {
        return Ipv4.toInetAddress(netmask());
    }

    /**
     * The stack's MAC ({@link #mac}) in the usual text form.
     *
     * @return six lower-case hex octets joined by colons, e.g. {@code 02:00:c6:12:00:02}
     */
    public String macAddress() {
        return io.flowstack.core.wire.Ethernet.macToString(mac);
    }

    /**
     * The directed broadcast address of our subnet.
     *
     * @return the address as a big-endian int; the limited broadcast 255.255.255.255 for a /31 or
     *     /32, which have none
     */
    public int subnetBroadcast() {
        return prefixLength >= 31 ? Ipv4.BROADCAST : (address | ~netmask());
    }

    /**
     * Whether {@code dst} is on our subnet, so is reached directly rather than through the
     * {@link #gateway}.
     *
     * @param dst an IPv4 address as a big-endian int
     * @return true if {@code dst} shares our prefix
     */
    public boolean onLink(int dst) {
        return (dst & netmask()) == (address & netmask());
    }

    /** Builder with defaults modelled on Linux's (arp 60 s, ipfrag_time 30 s, 4 MiB reassembly). */
    public static final class Builder {
        /** A builder with every default; {@link StackConfig#builder()} is the usual way to get one. */
        Builder() {}

        private int cores = Runtime.getRuntime().availableProcessors();
        private long mac = 0x02_00_00_00_00_02L;
        private int address;
        private int prefixLength = 24;
        private int gateway;
        private int mtu;
        private boolean pinThreads = true;
        private boolean busyPoll;
        private boolean coreParking = true;
        private long idleSpinNanos = TimeUnit.MICROSECONDS.toNanos(50);
        private long idleNicCheckNanos = TimeUnit.MICROSECONDS.toNanos(10);
        private boolean jitIdlePriority;
        private NanoClock clock = SystemNanoClock.INSTANCE;
        private long arpTimeoutNanos = TimeUnit.SECONDS.toNanos(60);
        private long arpRetryNanos = TimeUnit.SECONDS.toNanos(1);
        private int arpRetries = 3;
        private int arpMaxEntries = 1024;
        private int arpQueuePerNeighbour = 64;
        private int arpQueueSlots = 256;
        private long reassemblyTimeoutNanos = TimeUnit.SECONDS.toNanos(30);
        private long reassemblyMemoryBytes = 4L << 20;
        private int reassemblyMaxDatagrams = 64;
        private int reassemblyMaxPerSource = 16;
        private int reassemblyMaxFragments = 64;
        private int icmpErrorsPerSecond = 1000;
        private int icmpErrorBurst = 50;
        private int interCoreRingBytes = 1 << 20;
        private int appRingBytes = 1 << 20;
        private int udpReceiveBufferBytes = 1 << 18;
        private int rxBatch = 32;
        private int moveHoldBytes = 1 << 20;
        private int tcpSendBufferBytes = 1 << 20;
        private int tcpReceiveBufferBytes = 1 << 20;
        private int tcpSynBacklog = 256;
        private int tcpMaxConnections = 1 << 20;
        private long tcpTimeWaitNanos = TimeUnit.SECONDS.toNanos(60);
        private int tcpMaxTimeWait = 262144;
        private long tcpRtoMinNanos = TimeUnit.MILLISECONDS.toNanos(200);
        private long tcpRtoMaxNanos = TimeUnit.SECONDS.toNanos(120);
        private long tcpRtoInitialNanos = TimeUnit.SECONDS.toNanos(1);
        private int tcpSynRetries = 6;
        private int tcpMaxRetries = 15;
        private long tcpDelayedAckNanos = TimeUnit.MILLISECONDS.toNanos(40);
        private int tcpQuickAcks = 16;
        private String tcpCongestionControl = "cubic";
        private long tcpKeepaliveIdleNanos = TimeUnit.HOURS.toNanos(2);
        private long tcpKeepaliveIntervalNanos = TimeUnit.SECONDS.toNanos(75);
        private int tcpKeepaliveProbes = 9;
        private int tcpChallengeAcksPerSecond = 1000;
        private boolean tcpSynCookies = true;
        private long tcpMemoryBytes = 4L << 30;

        /**
         * Sets {@link StackConfig#cores}. Default: the CPUs available to the JVM.
         *
         * @param v the number of cores, 1..64
         * @return this builder
         */
        public Builder cores(int v) { cores = v; return this; }
        /**
         * Sets {@link StackConfig#mac}. Default: 02:00:00:00:00:02.
         *
         * @param v the MAC address in the low 48 bits
         * @return this builder
         */
        public Builder mac(long v) { mac = v; return this; }
        /**
         * Sets {@link StackConfig#address}. Default: none (0, which {@link #build()} refuses).
         *
         * @param v the IPv4 address as a big-endian int
         * @return this builder
         */
        public Builder address(int v) { address = v; return this; }
        /**
         * Sets {@link StackConfig#prefixLength}. Default: 24.
         *
         * @param v the prefix length, 0..32
         * @return this builder
         */
        public Builder prefixLength(int v) { prefixLength = v; return this; }
        /**
         * Sets {@link StackConfig#gateway}. Default: 0 (no gateway).
         *
         * @param v the gateway's address as a big-endian int, or 0 for none
         * @return this builder
         */
        public Builder gateway(int v) { gateway = v; return this; }

        /**
         * The stack's IPv4 address.
         *
         * @param v the address
         * @return this builder
         * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address
         */
        public Builder address(InetAddress v) { address = Ipv4.of(v); return this; }

        /**
         * The default gateway (the next hop for destinations off the subnet).
         *
         * @param v the address
         * @return this builder
         * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address
         */
        public Builder gateway(InetAddress v) { gateway = Ipv4.of(v); return this; }

        /**
         * The subnet as a network mask, e.g. 255.255.255.0: sets {@link #prefixLength(int)}.
         *
         * @param v the address
         * @return this builder
         * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, or if the mask's
         *     one bits are not contiguous from the top (RFC 4632 3.1)
         */
        public Builder netmask(InetAddress v) { prefixLength = Ipv4.prefixLength(Ipv4.of(v)); return this; }

        /**
         * Sets the layer-3 MTU ({@link StackConfig#mtu}). Default: 0 (the NIC's).
         *
         * @param v the MTU in bytes, or 0 for the NIC's
         * @return this builder
         */
        public Builder mtu(int v) { mtu = v; return this; }
        /**
         * Sets {@link StackConfig#pinThreads}. Default: true.
         *
         * @param v true to pin each netisr thread to its CPU
         * @return this builder
         */
        public Builder pinThreads(boolean v) { pinThreads = v; return this; }
        /**
         * Sets {@link StackConfig#busyPoll}. Default: false.
         *
         * @param v true to busy-poll
         * @return this builder
         */
        public Builder busyPoll(boolean v) { busyPoll = v; return this; }
        /**
         * Sets {@link StackConfig#coreParking}. Default: true.
         *
         * @param v false to keep every netisr on its own thread whatever the load
         * @return this builder
         */
        public Builder coreParking(boolean v) { coreParking = v; return this; }
        /**
         * Sets {@link StackConfig#idleSpinNanos}. Default: 50 us.
         *
         * @param v nanoseconds, 0 or more
         * @return this builder
         */
        public Builder idleSpinNanos(long v) { idleSpinNanos = v; return this; }
        /**
         * Sets {@link StackConfig#idleNicCheckNanos}. Default: 10 us.
         *
         * @param v nanoseconds, 0 or more (0: every spin)
         * @return this builder
         */
        public Builder idleNicCheckNanos(long v) { idleNicCheckNanos = v; return this; }
        /**
         * Sets {@link StackConfig#jitIdlePriority}. Default: false.
         *
         * @param v true to run the JIT compiler threads at SCHED_IDLE
         * @return this builder
         */
        public Builder jitIdlePriority(boolean v) { jitIdlePriority = v; return this; }
        /**
         * Sets {@link StackConfig#clock}. Default: {@link SystemNanoClock#INSTANCE}.
         *
         * @param v the clock
         * @return this builder
         */
        public Builder clock(NanoClock v) { clock = v; return this; }
        /**
         * Sets {@link StackConfig#arpTimeoutNanos}. Default: 60 s.
         *
         * @param v the entry lifetime in nanoseconds
         * @return this builder
         */
        public Builder arpTimeoutNanos(long v) { arpTimeoutNanos = v; return this; }
        /**
         * Sets {@link StackConfig#arpRetryNanos}. Default: 1 s.
         *
         * @param v the retry interval in nanoseconds
         * @return this builder
         */
        public Builder arpRetryNanos(long v) { arpRetryNanos = v; return this; }
        /**
         * Sets {@link StackConfig#arpRetries}. Default: 3.
         *
         * @param v the number of requests
         * @return this builder
         */
        public Builder arpRetries(int v) { arpRetries = v; return this; }
        /**
         * Sets {@link StackConfig#arpMaxEntries}. Default: 1024.
         *
         * @param v the maximum number of entries per core
         * @return this builder
         */
        public Builder arpMaxEntries(int v) { arpMaxEntries = v; return this; }
        /**
         * Sets {@link StackConfig#arpQueuePerNeighbour}. Default: 64.
         *
         * @param v the maximum number of frames per neighbour
         * @return this builder
         */
        public Builder arpQueuePerNeighbour(int v) { arpQueuePerNeighbour = v; return this; }
        /**
         * Sets {@link StackConfig#arpQueueSlots}. Default: 256.
         *
         * @param v the number of slots per core
         * @return this builder
         */
        public Builder arpQueueSlots(int v) { arpQueueSlots = v; return this; }
        /**
         * Sets {@link StackConfig#reassemblyTimeoutNanos}. Default: 30 s.
         *
         * @param v the timeout in nanoseconds
         * @return this builder
         */
        public Builder reassemblyTimeoutNanos(long v) { reassemblyTimeoutNanos = v; return this; }
        /**
         * Sets {@link StackConfig#reassemblyMemoryBytes}. Default: 4 MiB.
         *
         * @param v the bound in bytes per core
         * @return this builder
         */
        public Builder reassemblyMemoryBytes(long v) { reassemblyMemoryBytes = v; return this; }
        /**
         * Sets {@link StackConfig#reassemblyMaxDatagrams}. Default: 64.
         *
         * @param v the maximum number of datagrams per core
         * @return this builder
         */
        public Builder reassemblyMaxDatagrams(int v) { reassemblyMaxDatagrams = v; return this; }
        /**
         * Sets {@link StackConfig#reassemblyMaxPerSource}. Default: 16.
         *
         * @param v the maximum number of datagrams per source
         * @return this builder
         */
        public Builder reassemblyMaxPerSource(int v) { reassemblyMaxPerSource = v; return this; }
        /**
         * Sets {@link StackConfig#reassemblyMaxFragments}. Default: 64.
         *
         * @param v the maximum number of fragments per datagram
         * @return this builder
         */
        public Builder reassemblyMaxFragments(int v) { reassemblyMaxFragments = v; return this; }
        /**
         * Sets {@link StackConfig#icmpErrorsPerSecond}. Default: 1000.
         *
         * @param v the number of errors per second
         * @return this builder
         */
        public Builder icmpErrorsPerSecond(int v) { icmpErrorsPerSecond = v; return this; }
        /**
         * Sets {@link StackConfig#icmpErrorBurst}. Default: 50.
         *
         * @param v the burst size
         * @return this builder
         */
        public Builder icmpErrorBurst(int v) { icmpErrorBurst = v; return this; }
        /**
         * Sets {@link StackConfig#interCoreRingBytes}. Default: 1 MiB.
         *
         * @param v the ring capacity in bytes
         * @return this builder
         */
        public Builder interCoreRingBytes(int v) { interCoreRingBytes = v; return this; }
        /**
         * Sets {@link StackConfig#appRingBytes}. Default: 1 MiB.
         *
         * @param v the ring capacity in bytes
         * @return this builder
         */
        public Builder appRingBytes(int v) { appRingBytes = v; return this; }
        /**
         * Sets {@link StackConfig#udpReceiveBufferBytes}. Default: 256 KiB.
         *
         * @param v the buffer size in bytes
         * @return this builder
         */
        public Builder udpReceiveBufferBytes(int v) { udpReceiveBufferBytes = v; return this; }
        /**
         * Sets {@link StackConfig#rxBatch}. Default: 32.
         *
         * @param v the batch size in frames
         * @return this builder
         */
        public Builder rxBatch(int v) { rxBatch = v; return this; }
        /**
         * Sets the bytes each core may keep of frames held while a moved bucket settles
         * ({@link StackConfig#moveHoldBytes}). Default: 1 MiB.
         *
         * @param v the bytes per core, at least 256 KiB
         * @return this builder
         */
        public Builder moveHoldBytes(int v) { moveHoldBytes = v; return this; }
        /**
         * Sets {@link StackConfig#tcpSendBufferBytes}. Default: 1 MiB.
         *
         * @param v the buffer size in bytes
         * @return this builder
         */
        public Builder tcpSendBufferBytes(int v) { tcpSendBufferBytes = v; return this; }
        /**
         * Sets {@link StackConfig#tcpReceiveBufferBytes}. Default: 1 MiB.
         *
         * @param v the buffer size in bytes
         * @return this builder
         */
        public Builder tcpReceiveBufferBytes(int v) { tcpReceiveBufferBytes = v; return this; }
        /**
         * Sets {@link StackConfig#tcpSynBacklog}. Default: 256.
         *
         * @param v the bound per listener and core
         * @return this builder
         */
        public Builder tcpSynBacklog(int v) { tcpSynBacklog = v; return this; }
        /**
         * Sets {@link StackConfig#tcpMaxConnections}. Default: 1,048,576.
         *
         * @param v the maximum number of connections
         * @return this builder
         */
        public Builder tcpMaxConnections(int v) { tcpMaxConnections = v; return this; }
        /**
         * Sets {@link StackConfig#tcpTimeWaitNanos}. Default: 60 s.
         *
         * @param v the duration in nanoseconds
         * @return this builder
         */
        public Builder tcpTimeWaitNanos(long v) { tcpTimeWaitNanos = v; return this; }
        /**
         * Sets {@link StackConfig#tcpMaxTimeWait}. Default: 262144 (Linux's tcp_max_tw_buckets).
         *
         * @param v the bound for the whole stack, at least 1 per core
         * @return this builder
         */
        public Builder tcpMaxTimeWait(int v) { tcpMaxTimeWait = v; return this; }
        /**
         * Sets {@link StackConfig#tcpRtoMinNanos}. Default: 200 ms.
         *
         * @param v the bound in nanoseconds
         * @return this builder
         */
        public Builder tcpRtoMinNanos(long v) { tcpRtoMinNanos = v; return this; }
        /**
         * Sets {@link StackConfig#tcpRtoMaxNanos}. Default: 120 s.
         *
         * @param v the bound in nanoseconds
         * @return this builder
         */
        public Builder tcpRtoMaxNanos(long v) { tcpRtoMaxNanos = v; return this; }
        /**
         * Sets {@link StackConfig#tcpRtoInitialNanos}. Default: 1 s.
         *
         * @param v the timeout in nanoseconds
         * @return this builder
         */
        public Builder tcpRtoInitialNanos(long v) { tcpRtoInitialNanos = v; return this; }
        /**
         * Sets {@link StackConfig#tcpSynRetries}. Default: 6.
         *
         * @param v the number of retransmissions
         * @return this builder
         */
        public Builder tcpSynRetries(int v) { tcpSynRetries = v; return this; }
        /**
         * Sets {@link StackConfig#tcpMaxRetries}. Default: 15.
         *
         * @param v the number of retransmissions
         * @return this builder
         */
        public Builder tcpMaxRetries(int v) { tcpMaxRetries = v; return this; }
        /**
         * Sets {@link StackConfig#tcpDelayedAckNanos}. Default: 40 ms.
         *
         * @param v the delay in nanoseconds
         * @return this builder
         */
        public Builder tcpDelayedAckNanos(long v) { tcpDelayedAckNanos = v; return this; }
        /**
         * Sets {@link StackConfig#tcpQuickAcks}. Default: 16 (Linux's TCP_MAX_QUICKACKS).
         *
         * @param v the number of quick ACKs, 0 for none
         * @return this builder
         */
        public Builder tcpQuickAcks(int v) { tcpQuickAcks = v; return this; }
        /**
         * Sets {@link StackConfig#tcpCongestionControl}. Default: {@value CongestionControls#CUBIC}.
         *
         * @param v the algorithm's name ({@link CongestionControls#canonical(String)} accepts it)
         * @return this builder
         */
        public Builder tcpCongestionControl(String v) { tcpCongestionControl = v; return this; }
        /**
         * Sets {@link StackConfig#tcpKeepaliveIdleNanos}. Default: 2 h.
         *
         * @param v the idle time in nanoseconds
         * @return this builder
         */
        public Builder tcpKeepaliveIdleNanos(long v) { tcpKeepaliveIdleNanos = v; return this; }
        /**
         * Sets {@link StackConfig#tcpKeepaliveIntervalNanos}. Default: 75 s.
         *
         * @param v the interval in nanoseconds
         * @return this builder
         */
        public Builder tcpKeepaliveIntervalNanos(long v) { tcpKeepaliveIntervalNanos = v; return this; }
        /**
         * Sets {@link StackConfig#tcpKeepaliveProbes}. Default: 9.
         *
         * @param v the number of probes
         * @return this builder
         */
        public Builder tcpKeepaliveProbes(int v) { tcpKeepaliveProbes = v; return this; }
        /**
         * Sets {@link StackConfig#tcpChallengeAcksPerSecond}. Default: 1000.
         *
         * @param v the number of challenge ACKs per second
         * @return this builder
         */
        public Builder tcpChallengeAcksPerSecond(int v) { tcpChallengeAcksPerSecond = v; return this; }
        /**
         * Sets {@link StackConfig#tcpSynCookies}. Default: true.
         *
         * @param v true to use SYN cookies
         * @return this builder
         */
        public Builder tcpSynCookies(boolean v) { tcpSynCookies = v; return this; }
        /**
         * Sets {@link StackConfig#tcpMemoryBytes}. Default: 4 GiB.
         *
         * @param v the budget in bytes
         * @return this builder
         */
        public Builder tcpMemoryBytes(long v) { tcpMemoryBytes = v; return this; }

        /**
         * Checks the settings and builds the configuration.
         *
         * @return the immutable configuration
         * @throws IllegalArgumentException if a setting is out of range: cores outside 1..64, no
         *     address, a prefix length outside 0..32, a ring or buffer size that is not a power of
         *     two or below its minimum, a move hold buffer below 256 KiB, an unknown congestion
         *     control or a group (multicast) MAC address
         */
        public StackConfig build() {
            if (cores < 1 || cores > 64) {
                throw new IllegalArgumentException("--cores must be between 1 and 64, got " + cores);
            }
            if (address == 0) {
                throw new IllegalArgumentException("an IPv4 address is required (e.g. --addr 198.18.0.2/24)");
            }
            if (prefixLength < 0 || prefixLength > 32) {
                throw new IllegalArgumentException("prefix length must be 0..32, got " + prefixLength);
            }
            if (Integer.bitCount(interCoreRingBytes) != 1 || interCoreRingBytes < (1 << 20)) {
                throw new IllegalArgumentException("inter-core ring must be a power of two >= 1 MiB");
            }
            if (Integer.bitCount(appRingBytes) != 1 || appRingBytes < (1 << 20)) {
                throw new IllegalArgumentException("application ring must be a power of two >= 1 MiB");
            }
            if (Integer.bitCount(udpReceiveBufferBytes) != 1 || udpReceiveBufferBytes < (1 << 16)) {
                throw new IllegalArgumentException("UDP receive buffer must be a power of two >= 64 KiB");
            }
            if (Integer.bitCount(tcpSendBufferBytes) != 1 || tcpSendBufferBytes < 4096
                    || Integer.bitCount(tcpReceiveBufferBytes) != 1 || tcpReceiveBufferBytes < 4096) {
                throw new IllegalArgumentException("TCP buffers must be powers of two >= 4 KiB");
            }
            if (idleSpinNanos < 0 || idleNicCheckNanos < 0) {
                throw new IllegalArgumentException("idle spin and NIC check times must be >= 0");
            }
            if (moveHoldBytes < (1 << 18)) {
                throw new IllegalArgumentException("the move hold buffer must be >= 256 KiB");
            }
            if (tcpMaxTimeWait < cores) {
                throw new IllegalArgumentException("the TIME-WAIT bound must be at least 1 per core, got " + tcpMaxTimeWait);
            }
            CongestionControls.canonical(tcpCongestionControl); // validates the name
            if (io.flowstack.core.wire.Ethernet.isGroup(mac)) {
                throw new IllegalArgumentException("MAC address must be unicast");
            }
            return new StackConfig(this);
        }
    }
}
