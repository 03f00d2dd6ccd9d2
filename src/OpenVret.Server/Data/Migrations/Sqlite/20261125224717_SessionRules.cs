using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenVret.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SessionRules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "RulesText",
                table: "Sessions",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "RulesText",
                table: "Sessions");
        }
    }
}
