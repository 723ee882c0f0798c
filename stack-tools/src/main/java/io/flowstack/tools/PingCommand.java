package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.socket.IcmpEchoSocket;
import io.flowstack.core.socket.IcmpEchoSocket.Reply;
import io.flowstack.core.wire.Icmp;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.TapNic;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code stack ping}: ICMP echo (RFC 792) from a stack on a TAP device to any address, printing
 * what iputils {@code ping} prints: a line per reply, per ICMP error and per duplicate, and the
 * statistics with the RTT minimum, average, maximum and mean deviation.
 *
 * <p>The RTT is measured on the stack's clock between the netisr pass that sent the request and
 * the one that received the reply (see {@link IcmpEchoSocket}). Ctrl-C (or SIGTERM) prints the
 * statistics so far. Exit codes as ping's: 0 if a reply came back, 1 if none did, 2 for a usage
 * or environment error.
 */
@Command(
        name = "ping",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Sends ICMP echo requests from a stack on a TAP device and reports the replies, like ping.",
        description = {
            "Starts a stack on the TAP device NAME (created if it does not exist) with the address --addr, "
                    + "sends an echo request (RFC 792) to DEST every --interval seconds and prints each reply "
                    + "as ping does: bytes, icmp_seq, ttl and the round-trip time measured on the stack's clock. "
                    + "The first request waits for ARP. Requests larger than the MTU are fragmented and the "
                    + "replies reassembled.",
            "",
            "Stops after --count requests once every reply is in or --timeout seconds passed since the last "
                    + "request, or at Ctrl-C; then prints the statistics. Needs root or CAP_NET_ADMIN.",
            ""
        },
        sortOptions = false,
        footerHeading = "%nExamples:%n",
        footer = {
            "  # the kernel's side of the TAP at 198.18.0.1 (in a namespace, say):",
            "  sudo ip netns add lab && sudo ip -n lab tuntap add dev fs0 mode tap",
            "  sudo ip -n lab addr add 198.18.0.1/24 dev fs0",
            "  sudo ip -n lab link set fs0 up",
            "  sudo ip netns exec lab ./stack ping --tap fs0 --addr 198.18.0.2/24 \\",
            "       -c 10 -i 0.2 198.18.0.1",
            "",
            "  # fragmented requests and replies of 4000 bytes of data:",
            "  sudo ip netns exec lab ./stack ping --tap fs0 --addr 198.18.0.2/24 \\",
            "       -c 3 -s 4000 198.18.0.1",
            "",
            "  # beyond the subnet through a gateway, until Ctrl-C:",
            "  sudo ./stack ping --tap fs1 --addr 198.19.0.2/24 --gateway 198.19.0.1 \\",
            "       198.18.7.7",
            "",
            "Exit codes: 0 a reply came back, 1 no reply, 2 usage or environment error",
            "(bad flag, missing device or privilege); after Ctrl-C the statistics so far",
            "and 0 or 1 as above."
        })
final class PingCommand implements Callable<Integer>, ValidatedCommand {

    @Spec
    CommandSpec spec;

    @Option(names = "--tap", required = true, paramLabel = "NAME", converter = InterfaceName.Converter.class,
            description = "TAP device in the current network namespace, created if missing (1-15 characters).")
    String tap;

    @Option(names = "--addr", required = true, paramLabel = "A.B.C.D/P", converter = Ipv4Prefix.Converter.class,
            description = "The stack's address and prefix length, e.g. 198.18.0.2/24.")
    Ipv4Prefix addr;

    @Mixin
    StackOptions stackOptions = new StackOptions(1);

    @Mixin
    ThreadOptions threadOptions = new ThreadOptions();

    @Mixin
    OffloadOption offloadOption = new OffloadOption();

    @Option(names = {"-c", "--count"}, paramLabel = "N",
            description = "Stop after N requests (default: until Ctrl-C).")
    Integer count;

    @Option(names = {"-i", "--interval"}, paramLabel = "SEC",
            description = "Seconds between requests, at least 0.001 (default: ${DEFAULT-VALUE}).")
    double interval = 1.0;

    @Option(names = {"-s", "--size"}, paramLabel = "SIZE",
            description = "Bytes of echo data, 0..65507 (default: ${DEFAULT-VALUE}; the first 8 carry the "
                    + "timestamp, so below 8 no time is shown).")
    int size = 56;

    @Option(names = {"-W", "--timeout"}, paramLabel = "SEC",
            description = "With --count: seconds to wait for replies after the last request (default: ${DEFAULT-VALUE}).")
    double timeout = 10.0;

    @Parameters(index = "0", paramLabel = "DEST", converter = Ipv4Prefix.HostConverter.class,
            description = "The address to ping.")
    int dest;

    /** Statistics, owned by the thread running {@link #call()}. */
    private long transmitted;
    private long received;
    private long duplicates;
    private long errors;
    private long rttCount;
    private double rttSum;
    private double rttSumSquares;
    private double rttMin = Double.MAX_VALUE;
    private double rttMax;

    private volatile boolean stopRequested;
    private volatile IcmpEchoSocket socket;

    @Override
    public void validate() {
        stackOptions.validate(spec.commandLine(), addr);
        threadOptions.validate(spec.commandLine());
        if (count != null && count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1, got " + count);
        }
        if (!(interval >= 0.001) || interval > 3600) {
            throw new ParameterException(spec.commandLine(), "--interval must be 0.001..3600 seconds, got " + interval);
        }
        if (size < 0 || size > IcmpEchoSocket.MAX_DATA) {
            throw new ParameterException(spec.commandLine(), "--size must be 0.." + IcmpEchoSocket.MAX_DATA
                    + " bytes (an IPv4 datagram holds at most 65535), got " + size);
        }
        if (!(timeout > 0) || timeout > 3600) {
            throw new ParameterException(spec.commandLine(), "--timeout must be more than 0 and at most 3600 seconds, got "
                    + timeout);
        }
        if (dest == addr.address()) {
            throw new ParameterException(spec.commandLine(), "DEST " + Ipv4.toString(dest)
                    + " is the stack's own address: ping another host");
        }
        int mask = Ipv4.mask(addr.prefixLength());
        if (addr.contains(dest) && addr.prefixLength() <= 30 && (dest & ~mask) == ~mask) {
            throw new ParameterException(spec.commandLine(), "DEST " + Ipv4.toString(dest)
                    + " is the broadcast address of " + addr + ": broadcast ping is not supported");
        }
        if (!addr.contains(dest) && stackOptions.gateway == null) {
            throw new ParameterException(spec.commandLine(), "no route to " + Ipv4.toString(dest) + ": it is not on the "
                    + "subnet of --addr " + addr + " and there is no --gateway");
        }
    }

    StackConfig config() {
        return stackOptions.config(addr, threadOptions);
    }

    @Override
    public Integer call() {
        validate();
        StackConfig config = config();
        PrintWriter out = spec.commandLine().getOut();
        String d = Ipv4.toString(dest);
        CountDownLatch finished = new CountDownLatch(1);
        int[] exit = {Main.FAILURE};
        // Ctrl-C / SIGTERM: the loop stops, prints the statistics and closes the stack; the hook
        // then ends the JVM with ping's exit code (a shutdown hook cannot return one otherwise)
        Teardown.SignalHook hook = Teardown.onSignal("ping", () -> {
            stopRequested = true;
            IcmpEchoSocket s = socket;
            if (s != null) {
                s.wakeup();
            }
            try {
                finished.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            out.flush();
            Runtime.getRuntime().halt(exit[0]);
        });
        try {
            TapNic nic = TapNic.open(tap, stackOptions.cores, offloadOption.tapOptions(), stackOptions.rssKey());
            try (nic; FlowStack stack = FlowStack.start(config, nic); IcmpEchoSocket s = stack.icmpEchoOpen()) {
                socket = s;
                out.printf("PING %s (%s) %d(%d) bytes of data.%n", d, d, size, size + 28);
                out.flush();
                long start = System.nanoTime();
                run(s, out);
                long elapsed = System.nanoTime() - start;
                printStatistics(out, d, elapsed);
                exit[0] = received > 0 ? Main.OK : Main.FAILURE;
            }
            return exit[0];
        } finally {
            finished.countDown();
            hook.close(); // nothing to do once the hook runs
        }
    }

    /** Sends and receives until --count is done and answered (or timed out), or a signal. */
    private void run(IcmpEchoSocket socket, PrintWriter out) {
        final long intervalNanos = Math.round(interval * 1e9);
        final long waitNanos = Math.round(timeout * 1e9);
        final boolean[] outstanding = new boolean[65536];
        final boolean[] answered = new boolean[65536];
        final Reply r = new Reply();
        int seq = 0;
        long nextSend = System.nanoTime();
        long lastSend = nextSend;
        while (!stopRequested) {
            long now = System.nanoTime();
            boolean more = count == null || transmitted < count;
            if (more && now - nextSend >= 0) {
                seq = (seq + 1) & 0xFFFF; // the first is icmp_seq=1, as iputils counts
                outstanding[seq] = true;
                answered[seq] = false;
                if (socket.send(dest, seq, size)) {
                    transmitted++;
                } else {
                    out.println("ping: the stack's command queue is full: request " + seq + " not sent");
                    transmitted++;
                }
                lastSend = now;
                nextSend += intervalNanos;
                if (now - nextSend > intervalNanos) {
                    nextSend = now + intervalNanos; // fell behind (a stall): do not burst to catch up
                }
                more = count == null || transmitted < count;
            }
            if (!more && (received + errors >= transmitted || now - lastSend >= waitNanos)) {
                break;
            }
            long until = more ? nextSend : lastSend + waitNanos;
            long wait = Math.max(0, until - System.nanoTime());
            if (socket.receive(r, wait, TimeUnit.NANOSECONDS)) {
                report(r, outstanding, answered, out);
            }
        }
    }

    private void report(Reply r, boolean[] outstanding, boolean[] answered, PrintWriter out) {
        if (!outstanding[r.seq] && !answered[r.seq]) {
            return; // not a request of this run (e.g. a late reply to an identifier reused)
        }
        String from = Ipv4.toString(r.from);
        if (!r.isReply) {
            errors++;
            outstanding[r.seq] = false;
            out.printf("From %s icmp_seq=%d %s%n", from, r.seq, errorText(r.type, r.code));
            out.flush();
            return;
        }
        boolean dup = answered[r.seq];
        if (dup) {
            duplicates++;
        } else {
            received++;
            answered[r.seq] = true;
            outstanding[r.seq] = false;
        }
        StringBuilder line = new StringBuilder();
        line.append(r.dataLen + 8).append(" bytes from ").append(from).append(": icmp_seq=").append(r.seq)
                .append(" ttl=").append(r.ttl);
        if (r.hasRtt()) {
            double ms = r.rttNanos() / 1e6;
            line.append(" time=").append(formatRtt(ms)).append(" ms");
            if (!dup) {
                rttCount++;
                rttSum += ms;
                rttSumSquares += ms * ms;
                rttMin = Math.min(rttMin, ms);
                rttMax = Math.max(rttMax, ms);
            }
        }
        if (dup) {
            line.append(" (DUP!)");
        }
        out.println(line);
        if (r.badByte >= 0) {
            out.printf("wrong data byte #%d should be 0x%x but was 0x%x%n", r.badByte,
                    IcmpEchoSocket.expectedByte(r.badByte), r.badValue);
        }
        out.flush();
    }

    /** Like iputils: 3 decimals below 1 ms, 2 below 10, 1 below 100, none above. */
    static String formatRtt(double ms) {
        String f = ms < 1 ? "%.3f" : ms < 10 ? "%.2f" : ms < 100 ? "%.1f" : "%.0f";
        return String.format(Locale.ROOT, f, ms);
    }

    /** RFC 792 error types and codes in ping's words. */
    static String errorText(int type, int code) {
        if (type == Icmp.DEST_UNREACHABLE) {
            return switch (code) {
                case 0 -> "Destination Net Unreachable";
                case 1 -> "Destination Host Unreachable";
                case 2 -> "Destination Protocol Unreachable";
                case 3 -> "Destination Port Unreachable";
                case 4 -> "Frag needed and DF set";
                case 5 -> "Source Route Failed";
                default -> "Dest Unreachable, Bad Code: " + code;
            };
        }
        if (type == Icmp.TIME_EXCEEDED) {
            return code == 0 ? "Time to live exceeded" : code == 1 ? "Frag reassembly time exceeded"
                    : "Time exceeded, Bad Code: " + code;
        }
        if (type == Icmp.REDIRECT) {
            return "Redirect (code " + code + ")";
        }
        if (type == Icmp.SOURCE_QUENCH) {
            return "Source Quench";
        }
        if (type == Icmp.PARAMETER_PROBLEM) {
            return "Parameter problem (code " + code + ")";
        }
        return "ICMP type " + type + " code " + code;
    }

    private void printStatistics(PrintWriter out, String d, long elapsedNanos) {
        out.println();
        out.printf("--- %s ping statistics ---%n", d);
        StringBuilder b = new StringBuilder();
        b.append(transmitted).append(" packets transmitted, ").append(received).append(" received");
        if (duplicates > 0) {
            b.append(", +").append(duplicates).append(" duplicates");
        }
        if (errors > 0) {
            b.append(", +").append(errors).append(" errors");
        }
        if (transmitted > 0) {
            double loss = (transmitted - received) * 100.0 / transmitted;
            b.append(", ").append(percent(loss)).append("% packet loss");
        }
        b.append(", time ").append(elapsedNanos / 1_000_000).append("ms");
        out.println(b);
        if (rttCount > 0) {
            double avg = rttSum / rttCount;
            double mdev = Math.sqrt(Math.max(0, rttSumSquares / rttCount - avg * avg));
            out.printf(Locale.ROOT, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms%n", rttMin, avg, rttMax, mdev);
        }
        out.flush();
    }

    /** A percentage as C's {@code %g} prints it: 6 significant digits, no trailing zeros. */
    static String percent(double p) {
        if (p == 0) {
            return "0";
        }
        return new BigDecimal(p).round(new MathContext(6)).stripTrailingZeros().toPlainString();
    }
}
