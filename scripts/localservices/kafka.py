"""Kafka: the Apache Kafka broker jars from Maven Central, one KRaft node that is both broker
and controller."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from pathlib import Path

from localservices.common import (
    HOST,
    INSTALL_TIMEOUT_S,
    ServiceError,
    cache_root,
    file_lock,
    marker_ok,
    require_tool,
    run_logged,
    say,
    tail,
    write_marker,
)
from localservices.profile import Launched, Profile, spawn

KAFKA_VERSION = "4.4.0"
KAFKA_SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.25.5"
KAFKA_MIN_JARS = 40  # copy-dependencies yields 45 jars for the versions above

KAFKA_POM = f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.samooh</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{KAFKA_SCALA_VERSION}</artifactId>
      <version>{KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""


def kafka_libs() -> Path:
    """Folder with the Kafka broker's jars."""
    return cache_root() / f"kafka-{KAFKA_VERSION}" / "libs"


def install_kafka() -> None:
    """Fetch the Kafka broker jars (+ log4j2 binding) with Maven into the cache."""
    home = kafka_libs().parent
    main_jar = kafka_libs() / f"kafka_{KAFKA_SCALA_VERSION}-{KAFKA_VERSION}.jar"
    if marker_ok(home, main_jar):
        return
    mvn = require_tool("mvn", "install Maven (Debian: apt-get install -y maven)")
    require_tool(
        "java", "install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless)"
    )
    with file_lock(
        cache_root() / f".kafka-{KAFKA_VERSION}.lock", "Kafka install", INSTALL_TIMEOUT_S
    ):
        if marker_ok(home, main_jar):
            return
        started = time.monotonic()
        say(f"fetching Kafka {KAFKA_VERSION} jars from Maven Central into {kafka_libs()} ...")
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        log = home / "install.log"
        with tempfile.TemporaryDirectory(prefix="samooh-kafka-pom-") as tmp:
            pom = Path(tmp) / "pom.xml"
            pom.write_text(KAFKA_POM)
            run_logged(
                [
                    mvn,
                    "-q",
                    "-B",
                    "-f",
                    str(pom),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={kafka_libs()}",
                ],
                log,
                "Kafka jars (mvn)",
                cwd=Path(tmp),
            )
        jars = list(kafka_libs().glob("*.jar"))
        if not main_jar.exists() or len(jars) < KAFKA_MIN_JARS:
            raise ServiceError(
                f"Kafka jars incomplete: {len(jars)} jars in {kafka_libs()}\n" + tail(log)
            )
        write_marker(
            home,
            artifacts=f"kafka_{KAFKA_SCALA_VERSION}:{KAFKA_VERSION}, log4j {LOG4J_VERSION}",
            jars=str(len(jars)),
        )
        say(f"Kafka jars fetched ({len(jars)} jars) in {time.monotonic() - started:.1f} s")


def url(ports: dict[str, int]) -> str:
    """The bootstrap list of the locally started broker."""
    return f"{HOST}:{ports['kafka']}"


def kafka_cluster_id() -> str:
    """A random Kafka cluster id, made as `kafka-storage random-uuid` makes one."""
    while True:  # org.apache.kafka.common.Uuid.randomUuid(): url-safe base64, no padding
        raw = os.urandom(16)
        text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if not text.startswith("-") and raw not in (bytes(16), bytes(15) + b"\x01"):
            return text


def start_kafka(profile: Profile, ports: dict[str, int]) -> Launched:
    """Write KRaft config, format the storage once, start the combined broker/controller."""
    java = require_tool("java", "install a Java 17+ runtime")
    d = profile.svc_dir("kafka")
    data = d / "data"
    port, cport = ports["kafka"], ports["kafka_controller"]
    props = d / "server.properties"
    log4j = d / "log4j2.properties"
    d.mkdir(parents=True, exist_ok=True)
    props.write_text(f"""# written by scripts/services.py (profile {profile.name})
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}
advertised.listeners=PLAINTEXT://{HOST}:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.bootstrap.servers={HOST}:{cport}
log.dirs={data}
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
""")
    server_log = d / "server.log"
    # without a log4j2 config file Kafka prints nothing at all
    log4j.write_text(f"""# written by scripts/services.py
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {server_log}
appender.file.filePattern = {server_log}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
""")
    classpath = f"{kafka_libs()}/*"
    log_opt = f"-Dlog4j2.configurationFile={log4j}"
    formatted = d / "formatted"  # written after a complete format: a half one is redone
    if not (formatted.exists() and (data / "meta.properties").exists()):
        formatted.unlink(missing_ok=True)
        shutil.rmtree(data, ignore_errors=True)
        started = time.monotonic()
        run_logged(
            [
                java,
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                log_opt,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                kafka_cluster_id(),
                "-c",
                str(props),
                "--standalone",
            ],
            d / "format.log",
            "kafka: storage format",
            timeout=120,
        )
        formatted.write_text(f"formatted {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        say(f"kafka: storage formatted in {time.monotonic() - started:.1f} s")
    cmd = [
        java,
        "-Xmx512m",
        "-Xms256m",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        log_opt,
        "-cp",
        classpath,
        "kafka.Kafka",
        str(props),
    ]
    return spawn(profile, "kafka", cmd, port, url(ports))


async def probe_kafka(bootstrap: str, timeout: float) -> None:
    """The broker must answer a metadata request listing at least one broker."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="samooh-services",
        request_timeout_ms=max(500, int(timeout * 1000)),
    )
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        if not cluster.get("brokers"):
            raise RuntimeError("metadata lists no broker yet")
    finally:
        await admin.close()
