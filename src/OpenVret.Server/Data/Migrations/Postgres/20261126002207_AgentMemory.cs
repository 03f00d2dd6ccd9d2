using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenVret.Server.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AgentMemory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AgentMemory",
                table: "Patients",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "AgentMemoryUpdatedAt",
                table: "Patients",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AgentMemory",
                table: "Patients");

            migrationBuilder.DropColumn(
                name: "AgentMemoryUpdatedAt",
                table: "Patients");
        }
    }
}
