using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace OpenVret.Server.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class SampleBlocks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // "SampleChunks" (one row per channel batch) is not dropped here: LegacyChunks moves its rows into blocks
            // at start-up and drops it once it is empty, so no stored sample is lost by upgrading.
            migrationBuilder.CreateTable(
                name: "SampleBlocks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    SessionId = table.Column<string>(type: "text", nullable: false),
                    DeviceId = table.Column<string>(type: "text", nullable: false),
                    SessionTime = table.Column<double>(type: "double precision", nullable: false),
                    Count = table.Column<int>(type: "integer", nullable: false),
                    Data = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SampleBlocks", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SampleBlocks_SessionId_DeviceId_Id",
                table: "SampleBlocks",
                columns: new[] { "SessionId", "DeviceId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // A downgrade does not convert blocks back into per-channel rows: export the sessions first.
            migrationBuilder.DropTable(
                name: "SampleBlocks");

            migrationBuilder.CreateTable(
                name: "SampleChunks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Channel = table.Column<string>(type: "text", nullable: false),
                    Count = table.Column<int>(type: "integer", nullable: false),
                    Data = table.Column<byte[]>(type: "bytea", nullable: false),
                    DeviceId = table.Column<string>(type: "text", nullable: false),
                    DeviceTime = table.Column<double>(type: "double precision", nullable: false),
                    Late = table.Column<bool>(type: "boolean", nullable: false),
                    RateHz = table.Column<double>(type: "double precision", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    SessionId = table.Column<string>(type: "text", nullable: false),
                    SessionTime = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SampleChunks", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SampleChunks_SessionId_DeviceId_Channel_Sequence",
                table: "SampleChunks",
                columns: new[] { "SessionId", "DeviceId", "Channel", "Sequence" },
                unique: true);
        }
    }
}
