package io.flowstack.core.socket;

/** A socket call failed; the message says what happened and, where known, what to do. */
public class StackException extends RuntimeException {
    public StackException(String message) {
        super(message);
    }

    public StackException(String message, Throwable cause) {
        super(message, cause);
    }
}
