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
    public final int cores;
    public final long mac;
    public final int address;
    public final int prefixLength;
    public final int gateway;
    /** Layer-3 MTU; 0 takes the NIC's. */
    public final int mtu;
    public final boolean pinThreads;
    public final boolean busyPoll;
    public final NanoClock clock;
    public final long arpTimeoutNanos;
    public final long arpRetryNanos;
    public final int arpRetries;
    public final int arpMaxEntries;
    public final int arpQueuePerNeighbour;
    public final int arpQueueSlots;
    public final long reassemblyTimeoutNanos;
    public final long reassemblyMemoryBytes;
    public final int reassemblyMaxDatagrams;
    public final int reassemblyMaxPerSource;
    public final int reassemblyMaxFragments;
    public final int icmpErrorsPerSecond;
    public final int icmpErrorBurst;
    public final int interCoreRingBytes;
    public final int appRingBytes;
    public final int udpReceiveBufferBytes;
    public final int rxBatch;
    /**
     * Bytes each core may keep of frames held while a bucket that moved to it settles
     * (docs/REBALANCING.md). Half is for frames read from its NIC queue, which is not read while
     * one more receive batch would not fit in that half; the rest for frames from other cores.
     */
    public final int moveHoldBytes;
    public final int tcpSendBufferBytes;
    public final int tcpReceiveBufferBytes;
    public final int tcpSynBacklog;
    public final int tcpMaxConnections;
    public final long tcpTimeWaitNanos;
    public final long tcpRtoMinNanos;
    public final long tcpRtoMaxNanos;
    public final long tcpRtoInitialNanos;
    public final int tcpSynRetries;
    public final int tcpMaxRetries;
    public final long tcpDelayedAckNanos;
    public final String tcpCongestionControl;
    public final long tcpKeepaliveIdleNanos;
    public final long tcpKeepaliveIntervalNanos;
    public final int tcpKeepaliveProbes;
    public final int tcpChallengeAcksPerSecond;
    public final boolean tcpSynCookies;
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
        this.tcpRtoMinNanos = b.tcpRtoMinNanos;
        this.tcpRtoMaxNanos = b.tcpRtoMaxNanos;
        this.tcpRtoInitialNanos = b.tcpRtoInitialNanos;
        this.tcpSynRetries = b.tcpSynRetries;
        this.tcpMaxRetries = b.tcpMaxRetries;
        this.tcpDelayedAckNanos = b.tcpDelayedAckNanos;
        this.tcpCongestionControl = b.tcpCongestionControl;
        this.tcpKeepaliveIdleNanos = b.tcpKeepaliveIdleNanos;
        this.tcpKeepaliveIntervalNanos = b.tcpKeepaliveIntervalNanos;
        this.tcpKeepaliveProbes = b.tcpKeepaliveProbes;
        this.tcpChallengeAcksPerSecond = b.tcpChallengeAcksPerSecond;
        this.tcpSynCookies = b.tcpSynCookies;
        this.tcpMemoryBytes = b.tcpMemoryBytes;
    }

    /**
     * The command line's default for {@link #pinThreads}: pin netisr thread i to CPU i only when
     * the netisrs leave CPUs free ({@code cores} below the CPUs this process may use). When they
     * would take every CPU, the application, the kernel's network processing and the JVM share
     * those CPUs with them, and a netisr woken on its own busy CPU waits for it while another
     * may be idle: on a 2-vCPU VM, 2 pinned cores gave one connect loop 2,600-7,300 conn/s with
     * p99 0.5-3.9 ms, unpinned 5,400-6,800 with p99 0.4-0.5 ms (docs/BENCHMARKS.md).
     */
    public static boolean pinnedByDefault(int cores) {
        return cores < Runtime.getRuntime().availableProcessors();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int netmask() {
        return Ipv4.mask(prefixLength);
    }

    /** The stack's IPv4 address ({@link #address}) as an {@link InetAddress}. */
    public InetAddress inetAddress() {
        return Ipv4.toInetAddress(address);
    }

    /** The default gateway ({@link #gateway}), or null if none is configured. */
    public InetAddress inetGateway() {
        return gateway == 0 ? null : Ipv4.toInetAddress(gateway);
    }

    /** The subnet's network mask ({@link #netmask()}), e.g. 255.255.255.0 for a /24. */
    public InetAddress inetNetmask() {
        return Ipv4.toInetAddress(netmask());
    }

    /** The directed broadcast address of our subnet. */
    public int subnetBroadcast() {
        return prefixLength >= 31 ? Ipv4.BROADCAST : (address | ~netmask());
    }

    public boolean onLink(int dst) {
        return (dst & netmask()) == (address & netmask());
    }

    /** Builder with defaults modelled on Linux's (arp 60 s, ipfrag_time 30 s, 4 MiB reassembly). */
    public static final class Builder {
        private int cores = Runtime.getRuntime().availableProcessors();
        private long mac = 0x02_00_00_00_00_02L;
        private int address;
        private int prefixLength = 24;
        private int gateway;
        private int mtu;
        private boolean pinThreads = true;
        private boolean busyPoll;
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
        private int tcpMaxConnections = 65536;
        private long tcpTimeWaitNanos = TimeUnit.SECONDS.toNanos(60);
        private long tcpRtoMinNanos = TimeUnit.MILLISECONDS.toNanos(200);
        private long tcpRtoMaxNanos = TimeUnit.SECONDS.toNanos(120);
        private long tcpRtoInitialNanos = TimeUnit.SECONDS.toNanos(1);
        private int tcpSynRetries = 6;
        private int tcpMaxRetries = 15;
        private long tcpDelayedAckNanos = TimeUnit.MILLISECONDS.toNanos(40);
        private String tcpCongestionControl = "cubic";
        private long tcpKeepaliveIdleNanos = TimeUnit.HOURS.toNanos(2);
        private long tcpKeepaliveIntervalNanos = TimeUnit.SECONDS.toNanos(75);
        private int tcpKeepaliveProbes = 9;
        private int tcpChallengeAcksPerSecond = 1000;
        private boolean tcpSynCookies = true;
        private long tcpMemoryBytes = 4L << 30;

        public Builder cores(int v) { cores = v; return this; }
        public Builder mac(long v) { mac = v; return this; }
        public Builder address(int v) { address = v; return this; }
        public Builder prefixLength(int v) { prefixLength = v; return this; }
        public Builder gateway(int v) { gateway = v; return this; }

        /**
         * The stack's IPv4 address.
         *
         * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address
         */
        public Builder address(InetAddress v) { address = Ipv4.of(v); return this; }

        /**
         * The default gateway (the next hop for destinations off the subnet).
         *
         * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address
         */
        public Builder gateway(InetAddress v) { gateway = Ipv4.of(v); return this; }

        /**
         * The subnet as a network mask, e.g. 255.255.255.0: sets {@link #prefixLength(int)}.
         *
         * @throws IllegalArgumentException "IPv4 only: ..." for an IPv6 address, or if the mask's
         *     one bits are not contiguous from the top (RFC 4632 3.1)
         */
        public Builder netmask(InetAddress v) { prefixLength = Ipv4.prefixLength(Ipv4.of(v)); return this; }

        public Builder mtu(int v) { mtu = v; return this; }
        public Builder pinThreads(boolean v) { pinThreads = v; return this; }
        public Builder busyPoll(boolean v) { busyPoll = v; return this; }
        public Builder clock(NanoClock v) { clock = v; return this; }
        public Builder arpTimeoutNanos(long v) { arpTimeoutNanos = v; return this; }
        public Builder arpRetryNanos(long v) { arpRetryNanos = v; return this; }
        public Builder arpRetries(int v) { arpRetries = v; return this; }
        public Builder arpMaxEntries(int v) { arpMaxEntries = v; return this; }
        public Builder arpQueuePerNeighbour(int v) { arpQueuePerNeighbour = v; return this; }
        public Builder arpQueueSlots(int v) { arpQueueSlots = v; return this; }
        public Builder reassemblyTimeoutNanos(long v) { reassemblyTimeoutNanos = v; return this; }
        public Builder reassemblyMemoryBytes(long v) { reassemblyMemoryBytes = v; return this; }
        public Builder reassemblyMaxDatagrams(int v) { reassemblyMaxDatagrams = v; return this; }
        public Builder reassemblyMaxPerSource(int v) { reassemblyMaxPerSource = v; return this; }
        public Builder reassemblyMaxFragments(int v) { reassemblyMaxFragments = v; return this; }
        public Builder icmpErrorsPerSecond(int v) { icmpErrorsPerSecond = v; return this; }
        public Builder icmpErrorBurst(int v) { icmpErrorBurst = v; return this; }
        public Builder interCoreRingBytes(int v) { interCoreRingBytes = v; return this; }
        public Builder appRingBytes(int v) { appRingBytes = v; return this; }
        public Builder udpReceiveBufferBytes(int v) { udpReceiveBufferBytes = v; return this; }
        public Builder rxBatch(int v) { rxBatch = v; return this; }
        public Builder moveHoldBytes(int v) { moveHoldBytes = v; return this; }
        public Builder tcpSendBufferBytes(int v) { tcpSendBufferBytes = v; return this; }
        public Builder tcpReceiveBufferBytes(int v) { tcpReceiveBufferBytes = v; return this; }
        public Builder tcpSynBacklog(int v) { tcpSynBacklog = v; return this; }
        public Builder tcpMaxConnections(int v) { tcpMaxConnections = v; return this; }
        public Builder tcpTimeWaitNanos(long v) { tcpTimeWaitNanos = v; return this; }
        public Builder tcpRtoMinNanos(long v) { tcpRtoMinNanos = v; return this; }
        public Builder tcpRtoMaxNanos(long v) { tcpRtoMaxNanos = v; return this; }
        public Builder tcpRtoInitialNanos(long v) { tcpRtoInitialNanos = v; return this; }
        public Builder tcpSynRetries(int v) { tcpSynRetries = v; return this; }
        public Builder tcpMaxRetries(int v) { tcpMaxRetries = v; return this; }
        public Builder tcpDelayedAckNanos(long v) { tcpDelayedAckNanos = v; return this; }
        public Builder tcpCongestionControl(String v) { tcpCongestionControl = v; return this; }
        public Builder tcpKeepaliveIdleNanos(long v) { tcpKeepaliveIdleNanos = v; return this; }
        public Builder tcpKeepaliveIntervalNanos(long v) { tcpKeepaliveIntervalNanos = v; return this; }
        public Builder tcpKeepaliveProbes(int v) { tcpKeepaliveProbes = v; return this; }
        public Builder tcpChallengeAcksPerSecond(int v) { tcpChallengeAcksPerSecond = v; return this; }
        public Builder tcpSynCookies(boolean v) { tcpSynCookies = v; return this; }
        public Builder tcpMemoryBytes(long v) { tcpMemoryBytes = v; return this; }

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
            if (moveHoldBytes < (1 << 18)) {
                throw new IllegalArgumentException("the move hold buffer must be >= 256 KiB");
            }
            CongestionControls.canonical(tcpCongestionControl); // validates the name
            if (Ethernet_isGroup(mac)) {
                throw new IllegalArgumentException("MAC address must be unicast");
            }
            return new StackConfig(this);
        }

        private static boolean Ethernet_isGroup(long mac) {
            return io.flowstack.core.wire.Ethernet.isGroup(mac);
        }
    }
}
