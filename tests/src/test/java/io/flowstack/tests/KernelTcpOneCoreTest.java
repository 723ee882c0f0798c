package io.flowstack.tests;

/** {@link KernelTcpCases} with one netisr core and a single-queue TAP. */
class KernelTcpOneCoreTest extends KernelTcpCases {
    @Override
    int cores() {
        return 1;
    }
}
