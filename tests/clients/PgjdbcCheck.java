// pgjdbc against queryleaf's PostgreSQL protocol: what DBeaver and Metabase do on connect.
// Run: java -cp /usr/share/java/postgresql.jar PgjdbcCheck.java PORT
import java.sql.*;

public class PgjdbcCheck {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/queryleaf?user=ql&sslmode=disable";
        try (Connection conn = DriverManager.getConnection(url)) {
            DatabaseMetaData meta = conn.getMetaData();
            System.out.println("product " + meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion());
            try (ResultSet tables = meta.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (tables.next()) {
                    System.out.println("table " + tables.getString("TABLE_NAME") + " " + tables.getString("TABLE_TYPE"));
                }
            }
            try (ResultSet columns = meta.getColumns(null, "public", "users", "%")) {
                while (columns.next()) {
                    System.out.println("column " + columns.getString("COLUMN_NAME") + " " + columns.getString("TYPE_NAME")
                        + " " + columns.getInt("DATA_TYPE") + " " + columns.getInt("ORDINAL_POSITION"));
                }
            }
            try (PreparedStatement statement = conn.prepareStatement("SELECT name, age FROM users WHERE age > ? ORDER BY age")) {
                for (int round = 0; round < 6; round++) {  // the fifth run switches to a named server-side statement
                    statement.setLong(1, 40);
                    try (ResultSet rows = statement.executeQuery()) {
                        StringBuilder line = new StringBuilder("rows");
                        while (rows.next()) {
                            line.append(" ").append(rows.getString(1)).append("=").append(rows.getLong(2));
                        }
                        if (round == 5) System.out.println(line);
                    }
                }
            }
            try (Statement statement = conn.createStatement()) {
                System.out.println("inserted " + statement.executeUpdate("INSERT INTO jdbc_rows (a) VALUES (1), (2)"));
                try {
                    statement.executeQuery("SELECT nosuch(a) FROM jdbc_rows");
                } catch (SQLException error) {
                    System.out.println("error " + error.getSQLState());
                }
            }
        }
    }
}
