"""Apache Kafka for the test bed and ``make run BROKER=kafka`` (CONTRACT §10).

``fetch`` brings the pinned broker (``pom.xml``) from Maven Central into a cache outside the
checkout; ``cluster`` formats KRaft storage and runs clusters of one or three nodes on free ports.
"""
