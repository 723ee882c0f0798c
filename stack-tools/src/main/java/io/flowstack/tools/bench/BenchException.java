package io.flowstack.tools.bench;

/**
 * A run could not start or a server could not be set up; the message is one line for the user.
 * {@link #environment()} errors (a port in use, an unknown host) are the user's to fix: the
 * command exits 2 for them, 1 for the others (no server there, a failed run).
 */
public final class BenchException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean environment;

    public BenchException(String message) {
        this(message, false);
    }

    public BenchException(String message, boolean environment) {
        super(message);
        this.environment = environment;
    }

    public boolean environment() {
        return environment;
    }
}
