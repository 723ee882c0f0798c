package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flowstack.core.FlowStack;
import io.flowstack.core.stats.Stat;
import io.flowstack.services.UdpEchoService;
import io.flowstack.nativeio.Ethtool;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.nic.packet.PacketNic;
import io.flowstack.nic.packet.PacketQueue;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * A Linux kernel peer for the stack's AF_PACKET back-end: a veth pair whose kernel end
 * ({@code fpn<8 hex>}) sits in a fresh network namespace with {@value NamespaceLab#KERNEL_IP}/24,
 * and whose other end ({@code fpk<8 hex>}) stays in the root namespace, where the test JVM opens
 * a {@link PacketNic} on it for a {@link FlowStack} at {@value NamespaceLab#STACK_IP}/24 with a UDP
 * echo service on port 7 (DESIGN.md "Tests against real kernels").
 *
 * <p>The JVM cannot enter a namespace per thread, so the stack's end lives in the root
 * namespace; the root kernel is kept out of the traffic: that end has no IPv4 address, IPv6 is
 * disabled on it before it comes up (no autoconfiguration, MLD or DAD frames), and it is
 * promiscuous only through the stack's socket membership, so frames addressed to the stack's MAC
 * are "other host" frames that the root kernel's IP input discards. The kernel end keeps its
 * default offloads (tx-checksumming, TSO, GSO on), as a user's veth has them: the stack then
 * receives CHECKSUM_PARTIAL frames ({@code TP_STATUS_CSUMNOTREADY}, delivered as
 * {@code RX_CSUM_VALID}) and GSO super-frames of up to 64 KiB (read whole from the socket).
 * The stack's sockets have offloads too ({@code PACKET_VNET_HDR}: it sends super-frames for the
 * kernel to segment). {@link #startWireLike} turns the peer's tx-checksumming and TSO off instead
 * and opens the sockets without offloads, so the frames each way are what a wire carries
 * (finished checksums, at most MTU-sized; docs/AF_PACKET.md).
 *
 * <p>Names are per run: the namespace is {@code fsp-<pid>-<hex>}. {@link #close()} stops the
 * stack, closes the NIC, deletes the stack's end if the move failed and deletes the namespace,
 * which deletes both veth ends; a shutdown hook does the same if the JVM stops first, and
 * {@link #start} removes leftovers of crashed runs ({@code fsp-<pid>-*} namespaces of dead pids,
 * and {@code fpk}/{@code fpn} pairs left in the root namespace by a crash before the move).
 * Nothing else is touched. Naming, timeouts and the rest of the cleanup are {@link NamespaceLab}'s
 * and {@link StackLab}'s.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class PacketKernelLab extends StackLab {
    static final String NS_PREFIX = "fsp-";
    private static final Pattern OUR_ROOT_VETH = Pattern.compile("\\d+: fpk([0-9a-f]{8})@fpn([0-9a-f]{8}):");

    private final FanoutMode fanout;
    private final boolean peerOffloads;
    /** MTU of both veth ends, or 0 for the default (1500). */
    private final int mtu;
    private final String stackEnd;
    private final String kernelEnd;
    private boolean vethCreated;
    private PacketNic nic;
    private UdpEchoService echo;

    private PacketKernelLab(int cores, FanoutMode fanout, boolean peerOffloads, int mtu) {
        super(NS_PREFIX, "packet-lab", cores);
        this.fanout = fanout;
        this.peerOffloads = peerOffloads;
        this.mtu = mtu;
        this.stackEnd = "fpk" + runHex();
        this.kernelEnd = "fpn" + runHex();
    }

    /**
     * Creates the namespace and the veth pair, the kernel's end with its default offloads, and
     * starts the stack on {@code cores} cores, one AF_PACKET socket each, spread by
     * {@code fanout}.
     */
    public static PacketKernelLab start(int cores, FanoutMode fanout) {
        return open(new PacketKernelLab(cores, fanout, true, 0), PacketKernelLab::setUp);
    }

    /**
     * As {@link #start}, but the kernel's end has tx-checksumming and TSO off: finished checksums
     * and MTU-sized frames, as from a wire.
     */
    public static PacketKernelLab startWireLike(int cores, FanoutMode fanout) {
        return open(new PacketKernelLab(cores, fanout, false, 0), PacketKernelLab::setUp);
    }

    /**
     * As {@link #startWireLike}, with both veth ends at {@code mtu} (the stack takes the device's
     * MTU): jumbo frames as a wire carries them.
     */
    public static PacketKernelLab startWireLike(int cores, FanoutMode fanout, int mtu) {
        return open(new PacketKernelLab(cores, fanout, false, mtu), PacketKernelLab::setUp);
    }

    private void setUp() {
        host("ip", "link", "add", stackEnd, "type", "veth", "peer", "name", kernelEnd);
        vethCreated = true;
        if (!peerOffloads) {
            // finished checksums and no GSO super-frames from the kernel's side, like a wire
            Ethtool.set(kernelEnd, Ethtool.Feature.TX_CSUM, false);
            Ethtool.set(kernelEnd, Ethtool.Feature.TSO, false);
        }
        if (mtu > 0) {
            host("ip", "link", "set", stackEnd, "mtu", Integer.toString(mtu));
            host("ip", "link", "set", kernelEnd, "mtu", Integer.toString(mtu));
        }
        host("ip", "link", "set", kernelEnd, "netns", namespace());
        // the root kernel stays out: no IPv6 (set before the link is up), no IPv4 address
        host("sysctl", "-qw", "net.ipv6.conf." + stackEnd + ".disable_ipv6=1");
        host("ip", "link", "set", stackEnd, "up");
        bringUp(kernelEnd);
        // the wire-like lab is wire-like both ways: no virtio-net header, MTU-sized frames from the stack
        nic = useNic(PacketNic.open(stackEnd, cores(),
                PacketNic.Options.DEFAULT.withFanout(fanout).withOffloads(peerOffloads)));
        startStack(UnaryOperator.identity());
        echo = service(s -> new UdpEchoService(s, ECHO_PORT));
    }

    // ------------------------------------------------------------------ accessors

    public FanoutMode fanout() {
        return fanout;
    }

    /** Whether the kernel's end kept its default offloads (partial checksums, super-frames). */
    public boolean peerOffloads() {
        return peerOffloads;
    }

    /** The kernel's end of the veth, inside the namespace. */
    public String kernelEnd() {
        return kernelEnd;
    }

    /** The stack's end of the veth, in the root namespace. */
    public String stackEnd() {
        return stackEnd;
    }

    public PacketNic nic() {
        return nic;
    }

    public UdpEchoService echo() {
        return echo;
    }

    /** Sum of {@code f} over the NIC's queues. */
    public long sumQueues(java.util.function.ToLongFunction<PacketQueue> f) {
        long t = 0;
        for (int i = 0; i < nic.queueCount(); i++) {
            t += f.applyAsLong(nic.queue(i));
        }
        return t;
    }

    @Override
    public String report() {
        return "stack " + cores() + " core(s), fanout " + fanout.cliName() + ", peer offloads "
                + (peerOffloads ? "default" : "off") + (mtu > 0 ? ", MTU " + mtu : "") + ", ns " + namespace() + ", veth "
                + stackEnd + "/" + kernelEnd + "\n" + stack().countersReport();
    }

    // ------------------------------------------------------------------ waiting and asserting

    /**
     * The stack is healthy (INTERNAL_ERROR 0 on every core, no ownership violation, no checksum
     * failure: partial checksums are flagged, not verified) and the rings saw nothing they had to
     * drop: no truncated frame, no corrupt block, no outgoing frame looped back, no TX error;
     * with the peer's offloads off, no partial checksum and no super-frame either.
     */
    @Override
    public void assertHealthy() {
        super.assertHealthy();
        assertEquals(0, total(Stat.TCP_BAD_CHECKSUM) + total(Stat.UDP_BAD_CHECKSUM) + total(Stat.IP_BAD_CHECKSUM)
                + total(Stat.ICMP_BAD_CHECKSUM), () -> "checksum failures\n" + report());
        assertEquals(0, sumQueues(q -> q.rxRing().truncated()), () -> "truncated frames\n" + report());
        if (!peerOffloads) {
            assertEquals(0, sumQueues(q -> q.rxRing().csumNotReady()), () -> "unfinished checksums\n" + report());
            assertEquals(0, sumQueues(q -> q.rxRing().copied()), () -> "super-frames\n" + report());
        }
        assertEquals(0, sumQueues(q -> q.rxRing().corruptBlocks()), () -> "corrupt blocks\n" + report());
        assertEquals(0, sumQueues(q -> q.rxRing().outgoing()), () -> "outgoing frames looped back\n" + report());
        assertEquals(0, sumQueues(PacketQueue::txErrors), () -> "TX errors\n" + report());
        assertEquals(0, sumQueues(PacketQueue::txKickErrors), () -> "TX kick errors\n" + report());
    }

    @Override
    protected String nicReport() {
        return nic != null ? nic.countersReport() : "";
    }

    // ------------------------------------------------------------------ cleanup

    /** The stack and the NIC as {@link StackLab} closes them, then the veth if it never left the root namespace. */
    @Override
    protected void closeParts(List<Throwable> failures) {
        super.closeParts(failures);
        if (vethCreated) {
            // still in the root namespace if the move failed; otherwise the namespace takes it
            attempt(failures, () -> deleteRootVeth(stackEnd));
        }
    }

    /**
     * Removes what crashed runs left: {@code fsp-<pid>-<hex>} namespaces whose pid is dead (their
     * veth pairs go with them), and {@code fpk<hex>}/{@code fpn<hex>} pairs still wholly in the
     * root namespace (a crash between creating and moving) when no namespace of that run
     * exists. Everything else is left alone.
     */
    @Override
    protected void removeLeftovers() {
        removeStaleRootVethPairs(OUR_ROOT_VETH, "fpk", removeStaleNamespaces());
    }
}
