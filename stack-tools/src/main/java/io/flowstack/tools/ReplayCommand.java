package io.flowstack.tools;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.wire.Ethernet;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.Nic;
import io.flowstack.nic.pcap.PcapNic;
import io.flowstack.nic.pcap.PcapReader;
import io.flowstack.nic.pcap.PcapSpec;
import io.flowstack.nic.pcap.ReplayNic;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.NanoClock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code stack replay FILE}: feeds the frames a capture recorded towards the stack into a fresh
 * threadless stack ({@code FlowStack.create} + {@code pollAll}) on the capture's own clock, and
 * reports what the stack did with them: its counters, optionally a trace of the counters each
 * frame moved, and its responses as a pcap file.
 *
 * <p>Direction: a pcap file has no per-frame direction, so a frame counts as sent by the stack
 * when its Ethernet source is the stack's MAC (given with {@code --mac}, by default derived from
 * {@code --addr} as {@code endpoint} does) and is then skipped; every other frame is fed in. That
 * works for captures from {@code endpoint --pcap} and equally for tcpdump or Wireshark captures
 * taken on the peer's side of the link.
 *
 * <p>Time: the stack's clock is the capture's timestamps. Before each frame the clock advances
 * to its timestamp in steps of at most 1 ms (so timers such as delayed ACKs fire when they would
 * have), and after the last frame it runs on for {@code --settle} milliseconds.
 */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        header = "Feeds a capture's incoming frames into a stack offline and shows what it did with them.",
        description = {
            "Reads the pcap FILE (Ethernet; e.g. written by endpoint --pcap, or by tcpdump on the peer's side), "
                    + "builds a stack with --addr and no threads, and feeds it every frame whose Ethernet source "
                    + "is not the stack's MAC (--mac), with the capture's timestamps as the stack's clock. Frames the stack "
                    + "sent in the capture are skipped. Prints the stack's per-core counters at the end; --trace "
                    + "prints the counters each frame moved; --out writes the stack's responses to a new pcap file. "
                    + "Every frame enters on queue 0 and hops to the core that owns its flow; the replay device's "
                    + "MTU is " + ReplayCommand.DEFAULT_MTU + " unless --mtu sets it.",
            "",
            "The stack is a fresh one: it answers ARP and ping and reassembles as it would have, but it has no "
                    + "services and chooses its own TCP sequence numbers, so a recorded TCP conversation is not "
                    + "re-run: each segment meets a stack that does not know the connection (a reset, counted). "
                    + "Needs no privileges and no network.",
            ""
        },
        sortOptions = false,
        footerHeading = "%nExamples:%n",
        footer = {
            "  # what the stack makes of a capture taken with endpoint --pcap:",
            "  ./stack replay fs0.pcap --addr 198.18.0.2/24",
            "",
            "  # one line per frame with the counters it moved, and the responses in a file:",
            "  ./stack replay fs0.pcap --addr 198.18.0.2/24 --trace --out responses.pcap",
            "  tshark -r responses.pcap",
            "",
            "  # a tcpdump capture of a stack that ran with --mac 02:00:00:00:01:02 on",
            "  # two cores:",
            "  tcpdump -i fs0 -w peer.pcap",
            "  ./stack replay peer.pcap --addr 198.19.0.2/24 --mac 02:00:00:00:01:02 \\",
            "       --cores 2",
            "",
            "Exit codes: 0 ok, 1 the stack counted internal errors (a bug), 2 usage error",
            "or unreadable file; 130 after Ctrl-C (what was replayed so far is printed)."
        })
final class ReplayCommand implements Callable<Integer>, ValidatedCommand {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The capture to replay (pcap, Ethernet).")
    Path file;

    @Option(names = "--addr", required = true, paramLabel = "A.B.C.D/P", converter = Ipv4Prefix.Converter.class,
            description = "The stack's address and prefix length, as in the captured run, e.g. 198.18.0.2/24.")
    Ipv4Prefix addr;

    /** The replay device's MTU without {@code --mtu}: Ethernet's. */
    static final int DEFAULT_MTU = 1500;

    /** The stack's settings as endpoint takes them, but one core and MTU 1500 by default; no thread options. */
    @Mixin
    StackOptions stackOptions = new StackOptions(1, DEFAULT_MTU);

    @Option(names = "--out", paramLabel = "FILE",
            description = "Write the frames the replay stack sends to FILE (pcap, timestamps on the capture's clock).")
    Path out;

    @Option(names = "--out-all",
            description = "With --out: write the frames fed to the stack too, so FILE holds the whole conversation.")
    boolean outAll;

    @Option(names = "--trace", description = "Print one line per frame fed: its number, time and the counters it moved.")
    boolean trace;

    @Option(names = "--settle", paramLabel = "MS",
            description = "Milliseconds the clock runs on after the last frame, so that timers due then fire "
                    + "(default: ${DEFAULT-VALUE}).")
    int settleMs = 100;

    /** What a replay did, for the summary (and tests). */
    record Outcome(long records, long fed, long skipped, long truncated, long sent, long internalErrors) {}

    private Outcome outcome;

    Outcome outcome() {
        return outcome;
    }

    @Override
    public void validate() {
        stackOptions.validate(spec.commandLine(), addr);
        if (stackOptions.rssKey != null) {
            throw new ParameterException(spec.commandLine(), "--rss-key is a device's steering key: replay opens no device");
        }
        if (settleMs < 0 || settleMs > 600_000) {
            throw new ParameterException(spec.commandLine(), "--settle must be 0..600000 ms, got " + settleMs);
        }
        if (outAll && out == null) {
            throw new ParameterException(spec.commandLine(), "--out-all needs --out FILE");
        }
        if (out != null && out.toAbsolutePath().normalize().equals(file.toAbsolutePath().normalize())) {
            throw new ParameterException(spec.commandLine(), "--out " + out + " is the capture being replayed");
        }
    }

    /** Set by the Ctrl-C hook: the replay stops after the frame it is at and reports. */
    private volatile boolean stopRequested;

    @Override
    public Integer call() {
        validate();
        // Ctrl-C / SIGTERM: the loop stops, the summary of what was replayed is printed, then the
        // hook returns and the JVM exits (130 after SIGINT)
        CountDownLatch printed = new CountDownLatch(1);
        Teardown.SignalHook hook = Teardown.onSignal("replay", () -> {
            stopRequested = true;
            try {
                printed.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            return replay();
        } finally {
            printed.countDown();
            hook.close(); // nothing to do once the hook runs
        }
    }

    private int replay() {
        PrintWriter o = spec.commandLine().getOut();
        long stackMac = stackOptions.mac(addr);
        long[] now = new long[1];
        try (PcapReader reader = PcapReader.open(file)) {
            if (!reader.next()) {
                o.println("flowstack replay: " + file + " holds no frames");
                o.flush();
                outcome = new Outcome(0, 0, 0, 0, 0, 0);
                return Main.OK;
            }
            now[0] = reader.timestampNanos();
            long first = now[0];
            StackConfig config = config(() -> now[0]);
            ReplayNic replay = new ReplayNic("replay", stackOptions.cores, stackOptions.mtu());
            PcapNic capture = out == null ? null : PcapNic.wrapWithoutThread(replay,
                    PcapSpec.of(out).withDirection(outAll ? PcapSpec.Direction.BOTH : PcapSpec.Direction.TX),
                    () -> now[0]);
            Nic nic = capture != null ? capture : replay;
            long records = 0;
            long fed = 0;
            long skipped = 0;
            long truncated = 0;
            long[] before = new long[Stat.values().length];
            try (nic; FlowStack stack = FlowStack.create(config, nic)) {
                do {
                    records++;
                    byte[] frame = reader.frame();
                    if (frame.length < reader.originalLength()) {
                        truncated++; // cut by the capture's snap length: not the frame that was on the wire
                        continue;
                    }
                    if (frame.length >= 12 && macAt(frame, 6) == stackMac) {
                        skipped++;
                        continue;
                    }
                    advance(stack, now, reader.timestampNanos(), capture);
                    if (trace) {
                        snapshot(stack, before);
                    }
                    replay.offer(0, frame);
                    settle(stack, now[0], capture);
                    fed++;
                    if (trace) {
                        o.println(traceLine(records, now[0] - first, frame, stack, before));
                    }
                } while (!stopRequested && reader.next());
                boolean interrupted = stopRequested;
                if (interrupted) {
                    o.println("flowstack replay: interrupted after record " + records + ": what was replayed so far");
                } else {
                    advance(stack, now, now[0] + settleMs * 1_000_000L, capture);
                }
                long errors = stack.total(Stat.INTERNAL_ERROR);
                long span = now[0] - first - (interrupted ? 0 : settleMs * 1_000_000L);
                outcome = new Outcome(records, fed, skipped, truncated, replay.txFrames(), errors);
                o.printf(Locale.ROOT, "flowstack replay: %s: %d frames over %.6f s; %d fed to the stack (%s %s), "
                                + "%d sent by it in the capture skipped, %d cut by the snap length skipped; "
                                + "the stack sent %d frames%n",
                        file, records, span / 1e9, fed, Ipv4.toString(addr.address()),
                        Ethernet.macToString(stackMac), skipped, truncated, replay.txFrames());
                if (replay.rxTruncated() > 0) {
                    o.println("flowstack replay: " + replay.rxTruncated() + " frames longer than the MTU allows were "
                            + "dropped (try --mtu)");
                }
                if (capture != null) {
                    capture.drain();
                    o.println("flowstack replay: responses: " + capture.summary());
                }
                o.println("per-core counters:");
                o.print(stack.countersReport());
                o.flush();
                return errors > 0 ? Main.FAILURE : Main.OK;
            }
        }
    }

    /** The replay stack's configuration, on {@code clock}: threadless (pollAll on this thread), so nothing to pin. */
    StackConfig config(NanoClock clock) {
        return stackOptions.builder(addr).pinThreads(false).clock(clock).build();
    }

    /** Advances the clock to {@code target} in steps of at most 1 ms, polling at each. */
    private void advance(FlowStack stack, long[] now, long target, PcapNic capture) {
        long gap = target - now[0];
        if (gap <= 0) {
            return;
        }
        long step = Math.max(1_000_000L, gap / 100_000); // a long silence: at most 100,000 steps
        while (now[0] < target && !stopRequested) {
            now[0] = Math.min(target, now[0] + step);
            settle(stack, now[0], capture);
        }
    }

    /** Polls every core at {@code t} until none has work (bounded), then writes the responses. */
    private static void settle(FlowStack stack, long t, PcapNic capture) {
        for (int i = 0; i < 1000 && stack.pollAll(t) > 0; i++) {
            // a frame can take a few passes: hop to its owner, answer, ARP
        }
        if (capture != null) {
            capture.drain();
        }
    }

    private static long macAt(byte[] f, int at) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = (m << 8) | (f[at + i] & 0xFF);
        }
        return m;
    }

    private static void snapshot(FlowStack stack, long[] into) {
        for (Stat s : Stat.values()) {
            into[s.ordinal()] = stack.total(s);
        }
    }

    /** {@code #12 +0.001234 s 74 B: ip_in tcp_in tcp_no_socket tcp_rst_out(+1) ...}. */
    private static String traceLine(long number, long sinceFirst, byte[] frame, FlowStack stack, long[] before) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "#%d +%.6f s %d B:", number, sinceFirst / 1e9,
                frame.length));
        for (Stat s : Stat.values()) {
            if (s == Stat.RX_FRAMES || s == Stat.RX_BYTES || s == Stat.TX_BYTES) {
                continue;
            }
            long d = stack.total(s) - before[s.ordinal()];
            if (d != 0) {
                b.append(' ').append(s.key());
                if (d != 1) {
                    b.append("(+").append(d).append(')');
                }
            }
        }
        return b.toString();
    }
}
