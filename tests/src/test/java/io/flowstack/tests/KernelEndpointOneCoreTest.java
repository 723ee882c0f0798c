package io.flowstack.tests;

/** {@link KernelEndpointCases} with one netisr core and a single-queue TAP. */
class KernelEndpointOneCoreTest extends KernelEndpointCases {
    @Override
    int cores() {
        return 1;
    }
}
