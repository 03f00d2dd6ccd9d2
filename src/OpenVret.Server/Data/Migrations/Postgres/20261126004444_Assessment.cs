using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenVret.Server.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Assessment : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Age",
                table: "Patients",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "BaselineSeverity",
                table: "Patients",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "FollowUpSeverity",
                table: "Patients",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "PostSeverity",
                table: "Patients",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Sex",
                table: "Patients",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Age",
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
