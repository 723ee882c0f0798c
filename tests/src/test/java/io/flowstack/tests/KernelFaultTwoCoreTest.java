package io.flowstack.tests;

import java.util.List;

/** {@link KernelFaultCases} on a two-core stack (two TAP queues): every profile. */
class KernelFaultTwoCoreTest extends KernelFaultCases {
    @Override
    int cores() {
        return 2;
    }

    @Override
    List<Profile> profiles() {
        return PROFILES;
    }
}
