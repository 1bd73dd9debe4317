package jobwire.devdb;

import java.util.List;

import de.bwaldvogel.mongo.MongoVersion;

/**
 * The server version the development database reports: MongoDB 6.0 (wire version 17).
 *
 * <p>mongo-java-server reports wire version 8 by default, which PyMongo 4.20 refuses
 * (it needs 9 or newer).
 */
enum DevDatabaseVersion implements MongoVersion {

    INSTANCE;

    private static final List<Integer> VERSION = List.of(6, 0, 0);

    private static final int WIRE_VERSION = 17;

    @Override
    public List<Integer> getVersionArray() {
        return VERSION;
    }

    @Override
    public String toVersionString() {
        return "6.0.0";
    }

    @Override
    public int getWireVersion() {
        return WIRE_VERSION;
    }
}
