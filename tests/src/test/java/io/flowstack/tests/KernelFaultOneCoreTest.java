package io.flowstack.tests;

import java.util.List;

/**
 * {@link KernelFaultCases} on a one-core stack (one TAP queue): the profiles that take a few
 * seconds (loss 1%, duplication, corruption), so that the single-queue path is covered without
 * doubling the run time; every profile runs on two cores.
 */
class KernelFaultOneCoreTest extends KernelFaultCases {
    @Override
    int cores() {
        return 1;
    }

    @Override
    List<Profile> profiles() {
        return PROFILES.stream()
                .filter(p -> p.name().startsWith("loss 1%") || p.name().startsWith("duplication")
                        || p.name().startsWith("corruption"))
                .toList();
    }
}
