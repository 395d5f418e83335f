<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object s, EventArgs e) {
    // The connection string is the site's own; the request gives a parameter.
    using (var c = new System.Data.SqlClient.SqlConnection(System.Configuration.ConfigurationManager.ConnectionStrings["shop"].ConnectionString)) {
        var cmd = new System.Data.SqlClient.SqlCommand("SELECT name FROM items WHERE id = @id", c);
        cmd.Parameters.AddWithValue("@id", int.Parse(Request.QueryString["id"] ?? "0"));
    }
}
</script>
