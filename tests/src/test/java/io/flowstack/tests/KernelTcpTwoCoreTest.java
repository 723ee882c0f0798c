package io.flowstack.tests;

/** {@link KernelTcpCases} with two netisr cores and a two-queue TAP. */
class KernelTcpTwoCoreTest extends KernelTcpCases {
    @Override
    int cores() {
        return 2;
    }
}
