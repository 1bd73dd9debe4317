package jobwire.devdb;

import java.nio.file.Path;
import java.util.Optional;

/** The command line: {@code [--host HOST] [--port N] [--data DIR]}. */
record Options(String host, int port, Optional<Path> dataDir) {

    static final String USAGE = "usage: java -jar jobwire-devdb.jar"
        + " [--host HOST (127.0.0.1)] [--port N (27017; 0 = any free port)] [--data DIR]";

    private static final String DEFAULT_HOST = "127.0.0.1";

    private static final int DEFAULT_PORT = 27017;

    static Options parse(String[] args) {
        String host = DEFAULT_HOST;
        int port = DEFAULT_PORT;
        Optional<Path> dataDir = Optional.empty();

        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            switch (name) {
                case "--host" -> host = value(args, ++i, name);
                case "--port" -> port = parsePort(value(args, ++i, name));
                case "--data" -> dataDir = Optional.of(Path.of(value(args, ++i, name)));
                default -> throw new IllegalArgumentException("unknown argument: " + name);
            }
        }
        return new Options(host, port, dataDir);
    }

    private static String value(String[] args, int index, String name) {
        if (index >= args.length) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args[index];
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + text);
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a port number: " + text, e);
        }
    }
}
