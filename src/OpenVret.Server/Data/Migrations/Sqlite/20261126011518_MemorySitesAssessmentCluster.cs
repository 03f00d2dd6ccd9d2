using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenVret.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MemorySitesAssessmentCluster : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Site",
                table: "Users",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Age",
                table: "Patients",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "AgentMemory",
                table: "Patients",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "AgentMemoryUpdatedAt",
                table: "Patients",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "BaselineSeverity",
                table: "Patients",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "FollowUpSeverity",
                table: "Patients",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "PostSeverity",
                table: "Patients",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Sex",
                table: "Patients",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ClusterMembers",
                columns: table => new
                {
                    ClusterId = table.Column<string>(type: "TEXT", nullable: false),
                    Silo = table.Column<string>(type: "TEXT", nullable: false),
                    Etag = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    IAmAliveTime = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Entry = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ClusterMembers", x => new { x.ClusterId, x.Silo });
                });

            migrationBuilder.CreateTable(
                name: "ClusterVersions",
                columns: table => new
                {
                    ClusterId = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    Etag = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ClusterVersions", x => x.ClusterId);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ClusterMembers");

            migrationBuilder.DropTable(
                name: "ClusterVersions");

            migrationBuilder.DropColumn(
                name: "Site",
                table: "Users");

            migrationBuilder.DropColumn(
                name: "Age",
                table: "Patients");

            migrationBuilder.DropColumn(
                name: "AgentMemory",
                table: "Patients");

            migrationBuilder.DropColumn(
                name: "AgentMemoryUpdatedAt",
                table: "Patients");

            migrationBuilder.DropColumn(
                name: "BaselineSeverity",
                table: "Patients");

            migrationBuilder.DropColumn(
                name: "FollowUpSeverity",
                table: "Patients");

            migrationBuilder.DropColumn(
                name: "PostSeverity",
                table: "Patients");

            migrationBuilder.DropColumn(
                name: "Sex",
                table: "Patients");
        }
    }
}
