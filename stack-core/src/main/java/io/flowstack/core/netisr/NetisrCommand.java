package io.flowstack.core.netisr;

/**
 * A control-path message executed on a netisr thread (DragonFly's netmsg): socket binds,
 * table updates, queries. The only way another thread reaches protocol state.
 */
@FunctionalInterface
public interface NetisrCommand {
    void execute(Netisr netisr);
}
