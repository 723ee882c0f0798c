package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.percore.Ownership;
import io.flowstack.core.stats.Stat;
import io.flowstack.core.testing.Packets;
import io.flowstack.nic.Nic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link NamespaceLab} whose stack runs in this JVM: a {@link FlowStack} at
 * {@value NamespaceLab#STACK_IP}/24 with the MAC {@value #STACK_MAC_TEXT}, on a NIC that the
 * subclass opens on its device ({@link #useNic}), with services on it ({@link #service}), and
 * what the tests of such a stack check: counters, health, ping from the kernel.
 *
 * <p>Closing stops the services, then the stack, then the NIC, before the namespace is deleted.
 *
 * <p>Owned by: the test thread that started it.
 */
public abstract class StackLab extends NamespaceLab {
    /** The stack's MAC, set explicitly so frames can be addressed to it. */
    public static final long STACK_MAC = 0x02_46_53_00_00_02L;
    public static final String STACK_MAC_TEXT = "02:46:53:00:00:02";
    public static final int ECHO_PORT = 7;

    private static final Pattern PING_SUMMARY = Pattern.compile("(\\d+) packets transmitted, (\\d+) received");

    private final int cores;
    private final List<AutoCloseable> services = new ArrayList<>();
    private Nic nic;
    private FlowStack stack;

    protected StackLab(String prefix, String label, int cores) {
        super(prefix, label);
        this.cores = cores;
    }

    /**
     * The NIC to start the stack on, closed after the stack by {@link #close()}; a wrapper given
     * later replaces what it wraps (and closes it in turn).
     */
    protected final <N extends Nic> N useNic(N n) {
        this.nic = n;
        return n;
    }

    /** The NIC the stack runs on ({@link #useNic}). */
    public Nic nic() {
        return nic;
    }

    /**
     * Starts the stack on {@link #cores()} cores over the NIC of {@link #useNic}. {@code tune}
     * may change the configuration; address, prefix, MAC and cores are set here.
     */
    protected final void startStack(UnaryOperator<StackConfig.Builder> tune) {
        StackConfig config = tune.apply(StackConfig.builder()).cores(cores).address(Packets.ip(STACK_IP))
                .prefixLength(24).mac(STACK_MAC).build();
        stack = FlowStack.start(config, nic);
    }

    /** Connections (any state but LISTEN) on each core, asked of the owning netisrs. */
    public int[] connectionsPerCore() {
        int[] c = new int[cores()];
        for (int i = 0; i < cores(); i++) {
            c[i] = stack().call(i, n -> n.tcp().connections());
        }
        return c;
    }

    /**
     * Starts a service on the stack (e.g. {@code lab.service(s -> new TcpEchoService(s, 7))});
     * {@link #close()} closes it before the stack.
     */
    public <T extends AutoCloseable> T service(Function<FlowStack, T> starter) {
        T service = starter.apply(stack);
        synchronized (this) {
            services.add(service);
        }
        return service;
    }

    // ------------------------------------------------------------------ accessors

    public int cores() {
        return cores;
    }

    public FlowStack stack() {
        return stack;
    }

    public long total(Stat s) {
        return stack.total(s);
    }

    // ------------------------------------------------------------------ waiting and asserting

    /** Waits until the total of {@code s} reaches {@code atLeast}. */
    public void awaitTotal(Stat s, long atLeast, Duration timeout) {
        await(s.key() + " >= " + atLeast + " (now " + total(s) + ")", () -> total(s) >= atLeast, timeout);
    }

    /** {@link #startBackground(boolean, String...)} with no input. */
    public Background startBackground(String... cmd) {
        return startBackground(false, cmd);
    }

    /**
     * Starts {@code cmd} in the namespace without waiting; with {@code pipeInput} its standard
     * input is a pipe that {@link Background#sendLine} writes to (else {@code /dev/null}). The
     * caller must {@link Background#finish} it; {@link #close()} kills it if it is still running.
     */
    public Background startBackground(boolean pipeInput, String... cmd) {
        return spawnUntimed(pipeInput, cmd);
    }

    /** The heap in use after a {@code System.gc()} (this JVM's: the stack's and the test's). */
    static long usedHeapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** {@code ping -c count -i 0.2} from the kernel; asserts every echo is answered, unchanged. */
    public void assertPing(int count) {
        Result r = exec(Duration.ofSeconds(30), null, "ping", "-n", "-c", Integer.toString(count), "-i", "0.2",
                "-W", "2", "-w", "15", STACK_IP);
        assertAllAnswered(r, count, this::report);
        assertFalse(r.stdout().contains("wrong data"), () -> "corrupted echo data\n" + r);
        assertEquals(0, r.exit(), () -> "ping exit status\n" + r);
    }

    /**
     * INTERNAL_ERROR stays 0 on every core, no ownership violation happened in this JVM, and no
     * wake-up was lost (wakeup_late, tcp_doorbell_late, tcp_app_wakeup_late).
     */
    public void assertHealthy() {
        assertEquals(0, total(Stat.INTERNAL_ERROR), () -> "internal errors\n" + report());
        assertEquals(0, Ownership.violations(), () -> "ownership violations\n" + report());
        // lost wake-ups (issue 11): a netisr's sleep, a blocking-API doorbell, an application's park
        assertEquals(0, total(Stat.WAKEUP_LATE), () -> "netisr wake-ups lost (wakeup_late)\n" + report());
        assertEquals(0, total(Stat.TCP_DOORBELL_LATE), () -> "doorbells lost (tcp_doorbell_late)\n" + report());
        assertEquals(0, total(Stat.TCP_APP_WAKEUP_LATE), () -> "application wake-ups lost (tcp_app_wakeup_late)\n" + report());
    }

    /** What the NIC counted beyond the stack's counters, printed by {@link #finish}; none by default. */
    protected String nicReport() {
        return "";
    }

    /** End of a test class: prints the counters, checks the stack stayed healthy, always closes. */
    public static void finish(StackLab lab) {
        if (lab == null) {
            return;
        }
        try {
            System.out.println(lab.report());
            System.out.print(lab.nicReport());
            lab.assertHealthy();
        } finally {
            lab.close();
        }
    }

    /** Number of replies in ping's summary line; fails if there is none. */
    public static int pingReceived(Result r) {
        Matcher m = PING_SUMMARY.matcher(r.stdout());
        assertTrue(m.find(), () -> "no ping summary in: " + r);
        return Integer.parseInt(m.group(2));
    }

    public static int pingTransmitted(Result r) {
        Matcher m = PING_SUMMARY.matcher(r.stdout());
        assertTrue(m.find(), () -> "no ping summary in: " + r);
        return Integer.parseInt(m.group(1));
    }

    /**
     * Every echo request was answered and at least {@code count} were. With {@code -w}, ping's
     * {@code -c} counts replies, so a slow reply (a loaded machine) can make it send a few more
     * requests than {@code count}: what matters is that none went unanswered.
     */
    public static void assertAllAnswered(Result r, int count, Supplier<String> context) {
        assertAllAnswered(r.stdout(), r.toString(), count, context);
    }

    /** {@link #assertAllAnswered(Result, int, Supplier)} on ping's output {@code stdout}. */
    public static void assertAllAnswered(String stdout, String shown, int count, Supplier<String> context) {
        Matcher m = PING_SUMMARY.matcher(stdout);
        assertTrue(m.find(), () -> "no ping summary in: " + shown);
        int transmitted = Integer.parseInt(m.group(1));
        int received = Integer.parseInt(m.group(2));
        assertTrue(received >= count, () -> "expected at least " + count + " replies\n" + shown + "\n" + context.get());
        assertEquals(transmitted, received, () -> "unanswered echo requests\n" + shown + "\n" + context.get());
    }

    // ------------------------------------------------------------------ cleanup

    /** Closes the services, the stack and the NIC, in that order. */
    @Override
    protected void closeParts(List<Throwable> failures) {
        for (AutoCloseable service : services) {
            attempt(failures, () -> {
                try {
                    service.close();
                } catch (Exception e) {
                    throw new IllegalStateException("cannot close " + service, e);
                }
            });
        }
        if (stack != null) {
            attempt(failures, stack::close);
        }
        if (nic != null) {
            attempt(failures, nic::close);
        }
    }
}
