package io.flowstack.core.netisr;

import io.flowstack.core.percore.Ownership;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Periodic hooks of one core: each registered ticker runs on the netisr's own 10 ms tick with
 * the netisr's time ({@code nowNanos}, the stack clock) passed in, so an application that keeps
 * per-core state (a callback server's connection lists for its idle sweep) can act on it on the
 * owner thread without a thread or a lock of its own. A ticker must not block; one that throws is
 * reported (as an internal error of the netisr) and stays registered.
 *
 * <p>Owned by: the netisr of the core; {@link #add} and {@link #remove} run there too (the stack
 * submits them as commands, see {@code FlowStack.addTicker}).
 */
public final class NetisrTickers {
    private final Ownership owner;
    private final Consumer<Throwable> onError;
    private LongConsumer[] tickers = new LongConsumer[0];

    /**
     * @param owner the netisr's ownership (asserted on every call)
     * @param onError where a ticker's exception goes
     */
    NetisrTickers(Ownership owner, Consumer<Throwable> onError) {
        this.owner = owner;
        this.onError = onError;
    }

    /** Registers {@code ticker} (once: a ticker already registered is not added again). */
    public void add(LongConsumer ticker) {
        owner.check();
        for (LongConsumer t : tickers) {
            if (t == ticker) {
                return;
            }
        }
        LongConsumer[] a = Arrays.copyOf(tickers, tickers.length + 1);
        a[tickers.length] = ticker;
        tickers = a;
    }

    /** Unregisters {@code ticker}; returns whether it was registered. */
    public boolean remove(LongConsumer ticker) {
        owner.check();
        for (int i = 0; i < tickers.length; i++) {
            if (tickers[i] == ticker) {
                LongConsumer[] a = new LongConsumer[tickers.length - 1];
                System.arraycopy(tickers, 0, a, 0, i);
                System.arraycopy(tickers, i + 1, a, i, a.length - i);
                tickers = a;
                return true;
            }
        }
        return false;
    }

    /** The number of registered tickers. */
    public int size() {
        owner.check();
        return tickers.length;
    }

    /** Runs every ticker at {@code nowNanos} (the netisr's tick). */
    void run(long nowNanos) {
        LongConsumer[] a = tickers;
        for (LongConsumer t : a) {
            try {
                t.accept(nowNanos);
            } catch (Throwable e) {
                onError.accept(e);
            }
        }
    }
}
