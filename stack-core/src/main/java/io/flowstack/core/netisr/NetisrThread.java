package io.flowstack.core.netisr;

import io.flowstack.core.config.StackConfig;
import io.flowstack.core.stats.Stat;
import io.flowstack.nativeio.Poller;

/**
 * The thread of netisr {@code index} ({@code netisr-index}): runs its netisr's passes and, on
 * thread 0 with {@link CoreParking} on, those of parked siblings; decides when to spin, sleep and
 * park (DESIGN.md "Idle"; docs/BENCHMARKS.md "Wake-ups", "Core parking").
 *
 * <p>A pass that found no work starts a spin on memory of {@link StackConfig#idleSpinNanos} (the
 * passes read the inbox rings, the application ring, the commands, and a NIC queue whose receive
 * is a memory read; a TAP at most every {@link StackConfig#idleNicCheckNanos}:
 * {@link Netisr#idleSpin}). Then the thread parks if its load allows ({@link CoreParking}), or
 * sleeps in one {@code ppoll} on the descriptors of every netisr it runs ({@link #sleep}). A sleep
 * that timed out (a tick) sleeps again at once unless its pass finds work. With busy-poll it
 * only spins. The busy share of each {@link CoreParking#WINDOW_NANOS} window is the time not
 * spent spinning or asleep, measured with the passes' own clock readings.
 *
 * <p>Owned by: its thread; {@link #stop} from any thread.
 */
final class NetisrThread implements Runnable {
    /** The longest sleep, whatever the deadlines (a bound on a clock that jumps). */
    private static final long MAX_SLEEP_NANOS = 100_000_000L;
    /** A parked thread looks at its state at least this often (a stop needs no signal). */
    private static final int PARKED_POLL_MILLIS = 100;

    private final int index;
    private final Netisr[] cores;
    private final StackConfig config;
    private final CoreParking parking;
    /** The netisrs this thread runs: its own first, then (thread 0) the parked siblings'. */
    private final Netisr[] run;
    private int runCount;
    /** [i]: {@code run[i]}'s last pass found no work, so it reads a system-call NIC only when due ({@link Netisr#idleSpin}). */
    private final boolean[] quiet;
    private final int[] firstSlot;
    private final Poller poller;
    private volatile boolean stopping;

    private boolean spinning;
    /** The clock when the last {@link #sleep} ended (one reading for every netisr it ran). */
    private long sleepEnded;
    private long spinStart;
    private long idleSince;
    private long windowStart;
    private long windowIdle;
    private int lastBusyPermille = 1000;
    private long holdUntil;
    /** Thread {@code index} > 0 with parking: its run-queue wait, read once per window. */
    private RunDelay runDelay;
    private long lastRunDelay = -1;
    /** Its last window's run-queue wait reached {@link CoreParking#CONTENDED_PERMILLE}. */
    private boolean contended;

    /**
     * The thread body for netisr {@code index} of {@code cores}.
     *
     * @param index its netisr
     * @param cores every netisr of the stack
     * @param parking the stack's core parking, or null when off
     */
    NetisrThread(int index, Netisr[] cores, CoreParking parking) {
        this.index = index;
        this.cores = cores;
        this.config = cores[index].config();
        this.parking = parking;
        int hosts = parking != null && index == 0 ? cores.length : 1;
        this.run = new Netisr[hosts];
        this.firstSlot = new int[hosts];
        this.quiet = new boolean[hosts];
        int slots = 0;
        for (int i = 0; i < hosts; i++) {
            slots += cores[i == 0 ? index : i].pollSlots();
        }
        this.poller = new Poller(slots);
    }

    /** Asks the thread to end after its current pass or sleep (any thread). */
    void stop() {
        stopping = true;
        cores[index].wake();
        if (parking != null && index > 0) {
            parking.unpark(index);
        }
    }

    @Override
    public void run() {
        Netisr home = cores[index];
        home.onStart();
        run[0] = home;
        runCount = 1;
        windowStart = home.now();
        holdUntil = windowStart;
        if (parking != null && index > 0) {
            runDelay = new RunDelay();
        }
        try {
            loop(home);
        } finally {
            if (runDelay != null) {
                runDelay.close();
            }
        }
    }

    private void loop(Netisr home) {
        while (!stopping) {
            try {
                long now = config.clock.nanoTime(); // one reading per pass, for every netisr it runs
                int work = 0;
                for (int i = 0; i < runCount; i++) {
                    int w = run[i].doWork(now);
                    if ((w == 0) != quiet[i] && !config.busyPoll) { // one that found nothing spins (busy-poll reads every pass)
                        quiet[i] = w == 0;
                        run[i].idleSpin(quiet[i]);
                    }
                    work += w;
                }
                if (parking != null && index == 0) {
                    work += adopt();
                }
                afterPass(work, now);
            } catch (Throwable t) {
                home.internalError(t); // never let the loop end: its flows would hang
            }
        }
    }

    private void afterPass(int work, long now) {
        if (now - windowStart >= CoreParking.WINDOW_NANOS) {
            endWindow(now);
        }
        if (contended && now - holdUntil >= 0) {
            // more runnable threads than CPUs: one thread fewer, whatever this one's load
            cores[index].counters().inc(Stat.NETISR_PARKED_CONTENDED);
            park();
            return;
        }
        if (work > 0) {
            if (spinning) {
                spinning = false;
                windowIdle += now - idleSince;
            }
            return;
        }
        if (config.busyPoll) {
            Thread.onSpinWait();
            return;
        }
        if (!spinning) {
            spinning = true;
            spinStart = now;
            idleSince = now;
        }
        if (now - spinStart < config.idleSpinNanos) {
            Thread.onSpinWait();
            return;
        }
        if (parking != null && index > 0 && lastBusyPermille <= CoreParking.PARK_BELOW_PERMILLE
                && now - holdUntil >= 0) {
            park();
            return;
        }
        boolean woke = sleep();
        // woken by a descriptor: spin again after the pass (a reply's ACK, the next request may
        // follow); timed out (a tick): unless that pass finds work, sleep again at once
        spinStart = woke ? sleepEnded : sleepEnded - config.idleSpinNanos;
    }

    private void endWindow(long now) {
        long span = now - windowStart;
        long idle = windowIdle;
        if (spinning) {
            idle += now - idleSince;
            idleSince = now;
        }
        windowStart = now;
        windowIdle = 0;
        lastBusyPermille = (int) Math.max(0, (span - idle) * 1000 / span);
        if (runDelay != null) {
            long waited = runDelay.nanos();
            contended = waited >= 0 && lastRunDelay >= 0
                    && (waited - lastRunDelay) * 1000 >= span * CoreParking.CONTENDED_PERMILLE;
            lastRunDelay = waited;
        }
        if (parking != null && index == 0 && runCount > 1 && parking.cpuToSpare(now)
                && lastBusyPermille >= CoreParking.RETURN_ABOVE_PERMILLE) {
            handBack();
        }
    }

    /** Sleeps on every netisr it runs; true if a descriptor ended the sleep (or work was waiting). */
    private boolean sleep() {
        for (int i = 0; i < runCount; i++) {
            if (!run[i].prepareSleep()) {
                cancelSleeps(i);
                return true;
            }
        }
        // Thread 0: a sibling that parked after this pass's adopt() signalled only if it saw
        // netisr 0 asleep (its wake() fences after PARKING; prepareSleep fenced after sleeping):
        // look again, or its netisr would run on nobody's thread until this sleep ends.
        if (parking != null && index == 0 && adoptable()) {
            cancelSleeps(runCount);
            return true;
        }
        long deadline = Long.MAX_VALUE;
        int slots = 0;
        for (int i = 0; i < runCount; i++) {
            deadline = Math.min(deadline, run[i].sleepDeadline());
            firstSlot[i] = slots;
            slots += run[i].pollFds(poller, slots);
        }
        poller.count(slots);
        int ready = poller.pollNanos(Math.min(MAX_SLEEP_NANOS, Math.max(0, deadline - config.clock.nanoTime())));
        sleepEnded = config.clock.nanoTime();
        boolean woke = false;
        for (int i = 0; i < runCount; i++) {
            woke |= run[i].endSleep(poller, firstSlot[i], ready, sleepEnded);
        }
        return woke;
    }

    /** Ends the sleeps {@link #sleep} began on the first {@code count} netisrs it runs. */
    private void cancelSleeps(int count) {
        for (int j = 0; j < count; j++) {
            run[j].cancelSleep();
        }
        sleepEnded = config.clock.nanoTime();
    }

    /** Thread 0: whether a sibling is handing its netisr over ({@link CoreParking#PARKING}). */
    private boolean adoptable() {
        for (int i = 1; i < cores.length; i++) {
            if (parking.state(i) == CoreParking.PARKING) {
                return true;
            }
        }
        return false;
    }

    /** Thread {@code index} > 0: hands its netisr to thread 0 and sleeps until it is returned. */
    private void park() {
        cores[index].counters().inc(Stat.NETISR_PARKED);
        cores[index].idleSpin(false);
        quiet[0] = false;
        spinning = false;
        parking.state(index, CoreParking.PARKING); // its last touch of the netisr is before this
        cores[0].wake();
        while (!stopping && parking.state(index) != CoreParking.RETURNED) {
            parking.sleepParked(index, poller, PARKED_POLL_MILLIS);
        }
        if (parking.state(index) != CoreParking.RETURNED) {
            return; // stopping: thread 0 runs it until it stops too
        }
        cores[index].ownership().claim();
        parking.state(index, CoreParking.RUNNING);
        long now = config.clock.nanoTime();
        windowStart = now;
        windowIdle = 0;
        lastBusyPermille = 1000;
        holdUntil = now + CoreParking.HOLD_NANOS;
        contended = false;
        lastRunDelay = runDelay.nanos(); // the wait while parked is not this window's
    }

    /** Thread 0, every pass: takes the netisrs of threads that park; the count taken (work). */
    private int adopt() {
        int taken = 0;
        for (int i = 1; i < cores.length; i++) {
            if (parking.state(i) == CoreParking.PARKING) {
                Netisr n = cores[i];
                n.ownership().claim();
                n.idleSpin(false);
                quiet[runCount] = false;
                run[runCount++] = n;
                parking.state(i, CoreParking.HOSTED);
                taken++;
            }
        }
        if (taken > 0) {
            parking.cpuToSpare(run[0].now()); // starts the measure of idle CPU
        }
        return taken;
    }

    /** Thread 0: returns every parked netisr to its own thread. */
    private void handBack() {
        for (int j = runCount - 1; j >= 1; j--) {
            Netisr n = run[j];
            run[j] = null;
            quiet[j] = false;
            n.idleSpin(false);
            n.counters().inc(Stat.NETISR_RETURNED);
            parking.state(n.core(), CoreParking.RETURNED); // its last touch by thread 0 is before this
            parking.unpark(n.core());
        }
        runCount = 1;
    }
}
