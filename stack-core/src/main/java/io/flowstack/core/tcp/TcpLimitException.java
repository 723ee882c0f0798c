package io.flowstack.core.tcp;

/**
 * A stack limit refused a new connection: the per-stack connection limit or the TCP buffer
 * memory budget (both counted). The socket layer turns it into its own exception for the
 * application.
 */
public final class TcpLimitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TcpLimitException(String message) {
        super(message);
    }
}
