package io.flowstack.tests;

/** {@link MalformedFrameCases} with one netisr core and a single-queue TAP. */
class MalformedFramesOneCoreTest extends MalformedFrameCases {
    @Override
    int cores() {
        return 1;
    }
}
