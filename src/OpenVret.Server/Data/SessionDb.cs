using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace OpenVret.Server.Data;

/// <summary>
/// The server's store. One model, two providers: <see cref="SqliteSessionDb"/> (default, a file under the
/// data folder) and <see cref="PostgresSessionDb"/> (clinics); each has its own migrations.
/// </summary>
public abstract class SessionDb(DbContextOptions options) : DbContext(options)
{
    public DbSet<UserAccount> Users => Set<UserAccount>();
    public DbSet<PatientRecord> Patients => Set<PatientRecord>();
    public DbSet<SessionRecord> Sessions => Set<SessionRecord>();
    public DbSet<DeviceRecord> Devices => Set<DeviceRecord>();
    public DbSet<SampleBlock> SampleBlocks => Set<SampleBlock>();
    public DbSet<SessionEntry> Entries => Set<SessionEntry>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();
    public DbSet<LoginSession> LoginSessions => Set<LoginSession>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<UserAccount>().HasIndex(u => u.UserName).IsUnique();
        b.Entity<UserAccount>().Property(u => u.Role).HasConversion<string>();
        b.Entity<LoginSession>().HasKey(l => l.Id);
        b.Entity<LoginSession>().HasIndex(l => l.UserId);
        b.Entity<PatientRecord>().HasKey(p => p.Id);
        b.Entity<SessionRecord>().HasKey(s => s.Id);
        b.Entity<SessionRecord>().Property(s => s.State).HasConversion<string>();
        b.Entity<SessionRecord>().HasIndex(s => s.PatientId);
        b.Entity<DeviceRecord>().HasKey(d => d.Id);
        b.Entity<DeviceRecord>().HasIndex(d => d.TokenHash).IsUnique();
        b.Entity<SampleBlock>().HasIndex(c => new { c.SessionId, c.DeviceId, c.Id });
        b.Entity<SessionEntry>().HasIndex(e => new { e.SessionId, e.Kind, e.SessionTime });
        b.Entity<SessionEntry>().Property(e => e.Kind).HasConversion<string>();
        b.Entity<AuditEntry>().HasKey(a => a.Sequence);
        b.Entity<AuditEntry>().Property(a => a.Sequence).ValueGeneratedNever();
        // DateTimeOffset is stored as text by SQLite (sortable ISO 8601) and as timestamptz by PostgreSQL.
    }
}

public sealed class SqliteSessionDb(DbContextOptions<SqliteSessionDb> options) : SessionDb(options);

public sealed class PostgresSessionDb(DbContextOptions<PostgresSessionDb> options) : SessionDb(options);

/// <summary>Design-time factories for <c>dotnet ef migrations add</c>.</summary>
public sealed class SqliteDesignFactory : IDesignTimeDbContextFactory<SqliteSessionDb>
{
    public SqliteSessionDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteSessionDb>().UseSqlite("Data Source=design.db").Options);
}

public sealed class PostgresDesignFactory : IDesignTimeDbContextFactory<PostgresSessionDb>
{
    public PostgresSessionDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresSessionDb>().UseNpgsql("Host=localhost;Database=design").Options);
}
