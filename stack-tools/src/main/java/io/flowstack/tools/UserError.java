package io.flowstack.tools;

/**
 * A usage or environment error the user can fix (missing privilege, missing tool, conflicting
 * options). {@link Main} prints its message as one line and exits with {@link Main#USAGE}.
 */
public final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UserError(String message) {
        super(message);
    }
}
