package io.flowstack.core.socket;

/** A socket call failed; the message says what happened and, where known, what to do. */
public class StackException extends RuntimeException {
    /**
     * A failure described by {@code message}.
     *
     * @param message what failed and, where known, what to do
     */
    public StackException(String message) {
        super(message);
    }

    /**
     * A failure with its cause.
     *
     * @param message what failed
     * @param cause the underlying failure, e.g. an interruption or the exception a netisr command
     *     threw
     */
    public StackException(String message, Throwable cause) {
        super(message, cause);
    }
}
