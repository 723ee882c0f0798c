package io.flowstack.tests;

import io.flowstack.nic.xdp.XdpNic;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An {@link XdpNic} opened in this JVM on one end of a veth pair, with no stack on it: the test
 * drives its queue itself, as the queue's owner thread. The other end ({@code fxn<8 hex>}) sits in
 * a fresh network namespace with {@value NamespaceLab#KERNEL_IP}/24, where the test captures
 * what arrives; the XDP end ({@code fxk<8 hex>}) stays in the root namespace (the JVM cannot enter
 * a namespace per thread) and keeps the root kernel out: no address, IPv6 disabled before it comes
 * up, not promiscuous.
 *
 * <p>With {@code softwareSegmentation} the XDP end has TX checksumming and TSO off
 * ({@code ethtool -K fxk.. tx off tso off}), so the kernel cuts a super-frame into segments and
 * finishes their checksums in software on the way out; otherwise it keeps the veth's defaults and
 * passes a super-frame to its peer whole. The kernel end has GRO off either way, so a capture
 * there sees the frames as the veth delivered them.
 *
 * <p>Cleanup as {@link PacketKernelLab}'s: {@link #close()} closes the NIC (the program is
 * detached with its link), deletes the XDP end if it is still in the root namespace, and deletes
 * the namespace ({@code fsx-<pid>-<hex>}) with the other end; a shutdown hook does the same if the
 * JVM stops first; {@link #start} first removes what crashed runs left ({@code fsx-} namespaces of
 * dead pids, {@code fxk}/{@code fxn} pairs of no live run). Nothing else is touched.
 *
 * <p>Owned by: the test thread that started it.
 */
public final class XdpVethLab extends NamespaceLab {
    static final String NS_PREFIX = "fsx-";
    private static final Pattern OUR_ROOT_VETH = Pattern.compile("\\d+: fxk([0-9a-f]{8})@fxn([0-9a-f]{8}):");

    private final boolean softwareSegmentation;
    private final String xdpEnd;
    private final String kernelEnd;
    private boolean vethCreated;
    private XdpNic nic;

    private XdpVethLab(boolean softwareSegmentation) {
        super(NS_PREFIX, "xdp-veth-lab");
        this.softwareSegmentation = softwareSegmentation;
        this.xdpEnd = "fxk" + runHex();
        this.kernelEnd = "fxn" + runHex();
    }

    /**
     * Creates the namespace and the veth pair and opens an {@link XdpNic} of one queue on the
     * root end (driver mode, copy mode: a veth has no zero-copy).
     *
     * @param softwareSegmentation turn the XDP end's TX checksumming and TSO off
     * @return the lab
     */
    public static XdpVethLab start(boolean softwareSegmentation) {
        return open(new XdpVethLab(softwareSegmentation), XdpVethLab::setUp);
    }

    private void setUp() {
        host("ip", "link", "add", xdpEnd, "type", "veth", "peer", "name", kernelEnd);
        vethCreated = true;
        if (softwareSegmentation) {
            host("ethtool", "-K", xdpEnd, "tx", "off", "tso", "off");
        }
        host("ip", "link", "set", kernelEnd, "netns", namespace());
        // the root kernel stays out: no IPv6 (set before the link is up), no IPv4 address
        host("sysctl", "-qw", "net.ipv6.conf." + xdpEnd + ".disable_ipv6=1");
        host("ip", "link", "set", xdpEnd, "up");
        execOk("ethtool", "-K", kernelEnd, "gro", "off");
        bringUp(kernelEnd);
        nic = XdpNic.open(xdpEnd, 1, XdpNic.Options.DEFAULT.withPromiscuous(false));
    }

    /** The NIC on the root end. */
    public XdpNic nic() {
        return nic;
    }

    /** The XDP end of the veth, in the root namespace. */
    public String xdpEnd() {
        return xdpEnd;
    }

    /** The other end, inside the namespace. */
    public String kernelEnd() {
        return kernelEnd;
    }

    @Override
    public String report() {
        return "ns " + namespace() + ", veth " + xdpEnd + "/" + kernelEnd
                + (softwareSegmentation ? " (tx off, tso off on " + xdpEnd + ")" : "") + "\n"
                + (nic != null ? nic.countersReport() : "");
    }

    /** The NIC, then the veth if it never left the root namespace. */
    @Override
    protected void closeParts(List<Throwable> failures) {
        if (nic != null) {
            attempt(failures, nic::close);
        }
        if (vethCreated) {
            attempt(failures, () -> deleteRootVeth(xdpEnd));
        }
    }

    /**
     * Removes {@code fsx-<pid>-<hex>} namespaces of dead pids and {@code fxk<hex>}/{@code fxn<hex>}
     * pairs still wholly in the root namespace when no live run has that hex.
     */
    @Override
    protected void removeLeftovers() {
        removeStaleRootVethPairs(OUR_ROOT_VETH, "fxk", removeStaleNamespaces());
    }
}
