package io.flowstack.tests;

/** {@link KernelFloodCases} on a one-core stack. */
class KernelFloodOneCoreTest extends KernelFloodCases {
    @Override
    int cores() {
        return 1;
    }
}
