package io.flowstack.tests;

/** {@link KernelFloodCases} on a two-core stack. */
class KernelFloodTwoCoreTest extends KernelFloodCases {
    @Override
    int cores() {
        return 2;
    }
}
