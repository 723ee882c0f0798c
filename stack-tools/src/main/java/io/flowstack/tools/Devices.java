package io.flowstack.tools;

import io.flowstack.nativeio.Netdev;
import io.flowstack.nic.TapNic;
import io.flowstack.nic.Toeplitz;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.nic.packet.PacketNic;
import io.flowstack.nic.xdp.XdpLayout;
import io.flowstack.nic.xdp.XdpNic;
import io.flowstack.nic.xdp.XdpProgram;
import io.flowstack.tools.stats.DeviceCounters;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.io.PrintWriter;

/**
 * Opening the devices of a command's stack, with what the user should know about them on
 * stderr: a TAP ({@code endpoint --tap}, {@code router --if tap:...}), an existing interface
 * through AF_PACKET ({@code endpoint --packet}, {@code router --if packet:...}) or through AF_XDP
 * ({@code endpoint --xdp}, {@code router --if xdp:...}).
 *
 * <p>Owned by: nobody (stateless).
 */
final class Devices {
    private Devices() {
    }

    /**
     * Opens (creating if missing) the TAP {@code name} with {@code queues} queues; warns on
     * {@code err} if the kernel refused its offloads, its io_uring, a deeper queue or its steering
     * program.
     *
     * @param command the command, for the warnings ({@code stack COMMAND: warning: ...})
     * @param rssKey the key its steering program hashes with (the stack's: {@code --rss-key} or random)
     */
    static TapNic openTap(String command, String name, int queues, TapNic.Options options, Toeplitz rssKey,
            PrintWriter err) {
        TapNic t = TapNic.open(name, queues, options, rssKey);
        if (t.offloadProblem() != null) {
            err.println("stack " + command + ": warning: the TAP " + name + "'s offloads were refused ("
                    + t.offloadProblem() + "): one frame of at most the MTU per system call");
        }
        if (t.batchIoProblem() != null) {
            err.println("stack " + command + ": warning: the TAP " + name + "'s io_uring was refused ("
                    + t.batchIoProblem() + "): one frame per system call");
        }
        if (t.ringProblem() != null) {
            err.println("stack " + command + ": warning: the TAP " + name + "'s queue length was not raised to "
                    + TapNic.RX_RING_FRAMES + " (" + t.ringProblem() + "): frames may drop while a core is off its CPU");
        }
        if (t.steeringProblem() != null) {
            err.println("stack " + command + ": warning: the TAP " + name + "'s steering program was refused ("
                    + t.steeringProblem() + "): a new flow's first frames may land on another core's queue and hop");
        }
        err.flush();
        return t;
    }

    /**
     * Opens the existing interface {@code ifname} through AF_PACKET with {@code queues} sockets:
     * promiscuous unless the stack uses the interface's own MAC {@code mac} (then the host's
     * kernel would take our frames as its own); offload warnings go to {@code err}.
     *
     * @param fanout   how the kernel spreads frames over the sockets, null for the default
     * @param offloads whether to ask for the virtio-net header's offloads
     * @param mtu      the stack's MTU if one was asked for ({@code --mtu}), else null
     * @param rssKey   the key its Toeplitz fanout hashes with (the stack's: {@code --rss-key} or random)
     * @throws IllegalArgumentException if there is no such interface or {@code mtu} exceeds its MTU
     */
    static PacketNic openPacket(String command, String ifname, int queues, long mac, FanoutMode fanout, boolean offloads,
            Integer mtu, Toeplitz rssKey, PrintWriter err) {
        if (!Netdev.exists(ifname)) {
            throw new IllegalArgumentException("no interface " + ifname + " in this network namespace (see ip link)");
        }
        byte[] hw = Netdev.hwAddr(ifname);
        long ifMac = 0;
        for (byte b : hw) {
            ifMac = (ifMac << 8) | (b & 0xFF);
        }
        PacketNic.Options o = PacketNic.Options.DEFAULT
                .withFanout(fanout != null ? fanout : PacketNic.Options.DEFAULT.fanout())
                .withPromiscuous(ifMac != mac)
                .withOffloads(offloads);
        PacketNic p = PacketNic.open(ifname, queues, o, rssKey);
        if (mtu != null && mtu > p.mtu()) {
            p.close();
            throw new IllegalArgumentException("--mtu " + mtu + " is larger than the MTU " + p.mtu() + " of " + ifname
                    + ": the kernel would drop the longer frames (raise it with ip link set " + ifname + " mtu N)");
        }
        for (String w : p.offloadWarnings()) {
            err.println("stack " + command + ": warning: " + w);
        }
        err.flush();
        return p;
    }

    /**
     * Opens the existing interface {@code ifname} through AF_XDP with {@code queues} sockets (one
     * per receive queue): promiscuous unless the stack uses the interface's own MAC {@code mac};
     * the attach mode (driver or generic) and the copy mode are said on {@code err}.
     *
     * @param mode where the program runs ({@code --xdp-mode}), null to try driver then generic
     * @param offloads software GRO and, in copy mode, super-frames sent whole through a companion
     *     socket ({@link XdpNic.Options#offloads()}); false for {@code --no-offload}, a capture or
     *     an impairment
     * @param mtu the stack's MTU if one was asked for ({@code --mtu}), else null
     * @throws IllegalArgumentException if there is no such interface, it is down, has too few
     *     receive queues, or {@code mtu} exceeds its MTU
     */
    static XdpNic openXdp(String command, String ifname, int queues, long mac, XdpProgram.Mode mode, boolean offloads,
                          Integer mtu, PrintWriter err) {
        if (!Netdev.exists(ifname)) {
            throw new IllegalArgumentException("no interface " + ifname + " in this network namespace (see ip link)");
        }
        long ifMac = 0;
        for (byte b : Netdev.hwAddr(ifname)) {
            ifMac = (ifMac << 8) | (b & 0xFF);
        }
        XdpNic x = XdpNic.open(ifname, queues, XdpNic.Options.DEFAULT.withPromiscuous(ifMac != mac).withMode(mode)
                .withOffloads(offloads));
        if (mtu != null && mtu > x.mtu()) {
            x.close();
            throw new IllegalArgumentException("--mtu " + mtu + " is larger than the MTU " + x.mtu() + " of " + ifname
                    + ": the kernel would drop the longer frames (raise it with ip link set " + ifname + " mtu N)");
        }
        err.println("stack " + command + ": " + ifname + ": AF_XDP, " + x.modeLabel() + " mode"
                + (x.driverProblem() != null ? " (driver mode refused: " + x.driverProblem() + ")" : "")
                + (x.zeroCopyProblem() != null ? " (zero-copy refused: " + x.zeroCopyProblem() + ")" : "")
                + (x.superFrameProblem() != null ? " (no super-frames: " + x.superFrameProblem() + ")" : ""));
        for (String w : x.warnings()) {
            err.println("stack " + command + ": warning: " + w);
        }
        err.flush();
        return x;
    }

    /**
     * The AF_XDP interfaces' mode and counters for {@code stack stats}: the kernel's
     * {@code XDP_STATISTICS} summed over the queues, and the queues' own transmit kicks and drops.
     * Control path (it makes a system call per queue).
     *
     * @param nics the AF_XDP NICs
     * @return one entry per NIC, in order
     */
    static List<DeviceCounters> xdpCounters(List<XdpNic> nics) {
        return nics.stream().map(x -> {
            XdpLayout.Statistics k = x.statistics();
            Map<String, Long> c = new LinkedHashMap<>();
            c.put("xdp_rx_dropped", k.rxDropped());
            c.put("xdp_rx_ring_full", k.rxRingFull());
            c.put("xdp_fill_ring_empty", k.fillRingEmpty());
            c.put("xdp_tx_ring_empty", k.txRingEmpty());
            c.put("xdp_rx_invalid_descs", k.rxInvalidDescs());
            c.put("xdp_tx_invalid_descs", k.txInvalidDescs());
            long kicks = 0;
            long drops = 0;
            for (int i = 0; i < x.queueCount(); i++) {
                kicks += x.queue(i).txKicks();
                drops += x.queue(i).txDrops();
            }
            c.put("xdp_tx_kicks", kicks);
            c.put("xdp_tx_drops", drops);
            return new DeviceCounters(x.name(), "xdp", x.modeLabel(), c);
        }).toList();
    }
}
