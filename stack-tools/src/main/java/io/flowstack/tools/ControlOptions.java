package io.flowstack.tools;

import io.flowstack.tools.stats.ControlAccess;
import picocli.CommandLine.Option;

/**
 * Who may use the control socket of {@code stack endpoint} and {@code stack router}, declared
 * once as a picocli {@code @Mixin}: {@code --control-group}.
 *
 * <p>Owned by: the thread that parses the command line and runs the command.
 */
public final class ControlOptions {
    @Option(names = "--control-group", paramLabel = "GROUP",
            description = "Let the members of GROUP use 'stack stats' and 'stack route' on this instance: its control "
                    + "socket is then mode 0660 and group GROUP. Default: mode 0600, the stack's user and root only.")
    String controlGroup;

    /** {@return the access the options ask for} */
    ControlAccess access() {
        return controlGroup != null ? ControlAccess.withGroup(controlGroup) : ControlAccess.ownerOnly();
    }
}
