package jobwire.devdb;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * The development database: mongo-java-server on a local port, in memory or, with
 * {@code --data DIR}, in an H2 file under DIR that survives restarts.
 *
 * <p>Once it accepts connections it prints one line to stdout,
 * {@code devdb ready mongodb://HOST:PORT/}; it stops on SIGINT or SIGTERM.
 */
public final class DevDatabase {

    private static final String DATA_FILE = "jobwire-devdb.mv";

    private DevDatabase() {
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            exit(2, e.getMessage() + System.lineSeparator() + Options.USAGE);
            return;
        }

        MongoServer server;
        try {
            server = start(options);
        } catch (Exception e) {
            exit(1, "cannot start on " + options.host() + ":" + options.port() + ": " + e);
            return;
        }

        // Closes the clients, the server and the backend (for H2: commits and closes the store).
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "devdb-shutdown"));

        System.out.println("devdb ready " + connectionString(server.getLocalAddress()));
        System.out.flush();

        // The server's event loop threads keep the JVM running until a signal stops it.
    }

    private static MongoServer start(Options options) throws IOException {
        MongoBackend backend = openBackend(options.dataDir());
        backend.version(DevDatabaseVersion.INSTANCE);

        MongoServer server = new MongoServer(backend);
        // On failure bind() has already shut the server down and closed the backend.
        server.bind(options.host(), options.port());
        return server;
    }

    private static MongoBackend openBackend(Optional<Path> dataDir) throws IOException {
        if (dataDir.isEmpty()) {
            return new MemoryBackend();
        }
        Files.createDirectories(dataDir.get());
        return new H2Backend(dataDir.get().resolve(DATA_FILE).toString());
    }

    private static String connectionString(InetSocketAddress address) {
        String host = address.getHostString();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "mongodb://" + host + ":" + address.getPort() + "/";
    }

    private static void exit(int status, String message) {
        System.err.println("devdb: " + message);
        System.exit(status);
    }
}
